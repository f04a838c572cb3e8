"""`make audit-deps`: pip-audit on the installed environment, when PyPI's JSON API answers.

pip-audit asks https://pypi.org/pypi/NAME/VERSION/json about every installed distribution
(our own editable `cmsbot` is skipped: it is not on PyPI). First one such question is asked
here, with a 5-second timeout, through pip's own certificate and proxy settings. When it
gets no answer (no network, or a mirror that serves only the package index), this prints
why and succeeds, so that `make test` still runs offline: nothing was audited, and it says
so. When PyPI answers, pip-audit runs and its exit status is ours: a known vulnerability
fails `make test`. Arguments are passed on to pip-audit (e.g. `--ignore-vuln ID`).
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from importlib.metadata import version

PYPI_JSON = "https://pypi.org/pypi/{name}/{version}/json"  # what pip-audit asks
TIMEOUT = 5


def pip_config() -> dict[str, str]:
    """pip's settings as `pip config list` reports them (files and PIP_* variables)."""
    listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                            capture_output=True, text=True, timeout=30, check=False).stdout
    found: dict[str, str] = {}
    for line in listed.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            found.setdefault(key.rpartition(".")[2], value.strip().strip("'\""))
    return found


def probe(config: dict[str, str]) -> str | None:
    """None if PyPI's JSON API answers about pip itself; else why not."""
    url = PYPI_JSON.format(name="pip", version=version("pip"))
    context = ssl.create_default_context(cafile=config.get("cert") or None)
    handlers: list[urllib.request.BaseHandler] = [urllib.request.HTTPSHandler(context=context)]
    if config.get("proxy"):
        handlers.append(urllib.request.ProxyHandler({"https": config["proxy"]}))
    try:
        with urllib.request.build_opener(*handlers).open(url, timeout=TIMEOUT) as reply:
            reply.read(1)
    except urllib.error.HTTPError as error:
        return f"{url} answered HTTP {error.code}"
    except (OSError, ValueError) as error:  # URLError, timeouts, TLS errors
        return f"{url} did not answer ({getattr(error, 'reason', error)})"
    return None


def main(extra: list[str]) -> int:
    config = pip_config()
    problem = probe(config)
    if problem is not None:
        index = config.get("index-url")
        print(f"audit-deps: SKIPPED, nothing was audited: {problem}.")
        print("  pip-audit needs PyPI's JSON API"
              + (f" (pip's index here is {index}, which pip-audit does not use)" if index
                 else "") + "; run `make audit-deps` where pypi.org answers.")
        return 0
    env = dict(os.environ)
    if config.get("cert"):
        env.setdefault("REQUESTS_CA_BUNDLE", config["cert"])  # pip-audit uses requests
    if config.get("proxy"):
        env.setdefault("HTTPS_PROXY", config["proxy"])
    command = [sys.executable, "-m", "pip_audit", "--skip-editable", "--progress-spinner",
               "off", "--timeout", "15", *extra]
    print("audit-deps:", " ".join(command[2:]), flush=True)
    # Our own interpreter and pip-audit's fixed options, plus what `make` was given.
    run = subprocess.run(command, env=env, timeout=300, check=False,  # noqa: S603
                         capture_output=True, text=True)
    print(run.stdout, end="")
    print(run.stderr, end="", file=sys.stderr)
    unaudited = run.stdout.count("could not be audited")
    if unaudited:  # pip-audit reports "No known vulnerabilities" all the same
        print(f"audit-deps: NOTE: {unaudited} installed distribution(s) could not be "
              "audited (see above).")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
