from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.dates import HORIZON_YEARS, PartialDate, Precision, years_after
from domain.errors import FutureDateError, InvalidDateError


class TestReadingWhatSourcesSay:
    @pytest.mark.parametrize(("words", "start", "end", "precision"), [
        ("2015-09-01", date(2015, 9, 1), date(2015, 9, 1), Precision.DAY),
        ("27-29 October 2015", date(2015, 10, 27), date(2015, 10, 29), Precision.DAY),
        ("22–24 September 2015", date(2015, 9, 22), date(2015, 9, 24), Precision.DAY),
        ("2015-10-27..2015-10-29", date(2015, 10, 27), date(2015, 10, 29), Precision.DAY),
        ("12 January – 3 February 2016", date(2016, 1, 12), date(2016, 2, 3), Precision.DAY),
        ("June 2016", date(2016, 6, 1), date(2016, 6, 30), Precision.MONTH),
        ("2016-02", date(2016, 2, 1), date(2016, 2, 29), Precision.MONTH),
        ("late November 2015", date(2015, 11, 21), date(2015, 11, 30), Precision.PART_OF_MONTH),
        ("early 2016", date(2016, 1, 1), date(2016, 4, 30), Precision.PART_OF_YEAR),
        ("last trimester of 2016", date(2016, 9, 1), date(2016, 12, 31), Precision.TRIMESTER),
        ("2016-Q3", date(2016, 7, 1), date(2016, 9, 30), Precision.QUARTER),
        ("Q1 2017", date(2017, 1, 1), date(2017, 3, 31), Precision.QUARTER),
        ("2016", date(2016, 1, 1), date(2016, 12, 31), Precision.YEAR),
        ("2016-2018", date(2016, 1, 1), date(2018, 12, 31), Precision.YEAR),
    ])
    def test_keeps_the_range_and_precision_the_words_cover(
            self, words: str, start: date, end: date, precision: Precision) -> None:
        parsed = PartialDate.parse(words)
        assert (parsed.start, parsed.end, parsed.precision) == (start, end, precision)

    def test_never_invents_a_day(self) -> None:
        parsed = PartialDate.parse("2016")
        assert parsed.start != parsed.end
        assert str(parsed) == "2016"

    def test_keeps_the_sources_own_words(self) -> None:
        assert str(PartialDate.parse("late November 2015")) == "late November 2015"
        assert str(PartialDate.parse("2015-10-27..2015-10-29")) == "27–29 October 2015"

    def test_by_a_date_means_no_later_than(self) -> None:
        parsed = PartialDate.parse("by 2015-09-01")
        assert parsed.is_by and parsed.start is None and parsed.end == date(2015, 9, 1)
        assert parsed.certainly_by(date(2015, 9, 1))
        assert not parsed.certainly_by(date(2015, 8, 31))
        assert str(PartialDate.parse("by 2017")) == "by 2017"

    @pytest.mark.parametrize("words", ["2016 most probably", "2016?", "~2016",
                                       "2016 (tentative)"])
    def test_marks_tentative_dates(self, words: str) -> None:
        assert PartialDate.parse(words).tentative

    @pytest.mark.parametrize("words", ["2015-13-45", "31 February 2016", "2016-Q5",
                                       "sometime soon", "", "29-27 October 2015", "2015-00"])
    def test_refuses_what_is_no_date(self, words: str) -> None:
        with pytest.raises(InvalidDateError):
            PartialDate.parse(words)

    def test_refuses_other_types(self) -> None:
        with pytest.raises(InvalidDateError):
            PartialDate.parse(["2016"])


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
       st.integers(min_value=0, max_value=400), st.booleans())
def test_a_partial_date_survives_serialisation(day: date, length: int, by: bool) -> None:
    from datetime import timedelta
    end = day + timedelta(days=length)
    value = PartialDate(None if by else day, end, Precision.DAY)
    assert PartialDate.from_dict(value.to_dict()) == value
    assert PartialDate.parse(str(value)).end == value.end


_DIGIT_FORMS = st.from_regex(r"\A(by |By |by  )?[0-9]{1,5}(-[0-9]{1,3}(-[0-9]{1,3})?)?\Z")


@given(st.one_of(_DIGIT_FORMS, st.sampled_from(["0000", "2015-02-29", "2016-02-29",
                                                "2015-9-1", " 2015-09-01", "2015-09-01 ",
                                                "by 2015-02-29", "by 0000-01-01"])))
def test_the_quick_forms_read_as_the_general_path_reads_them(text: str) -> None:
    """ISO days, "by" ISO days and years skip the general path; what they give (or
    refuse) must not change."""
    from domain.dates import _parse, _parse_any

    def outcome(read: object) -> object:
        try:
            return read(text)  # type: ignore[operator]
        except InvalidDateError as error:
            return str(error)

    assert outcome(_parse.__wrapped__) == outcome(_parse_any)


class TestTheHorizon:
    """A business date more than HORIZON_YEARS after today is taken for a typo; the day
    is given, the domain has no clock."""

    TODAY = date(2026, 12, 6)

    @pytest.mark.parametrize("words", ["2016", "2036", "late 2036", "2036-12-06",
                                       "by 2036-12-06", "2016-2040", "early 2036?"])
    def test_keeps_what_starts_within_ten_years(self, words: str) -> None:
        parsed = PartialDate.parse(words)
        assert parsed.within_horizon(self.TODAY) is parsed

    @pytest.mark.parametrize("words", ["2037", "2036-12-07", "by 2036-12-07", "3016",
                                       "9999-12-31", "late 2100", "Q4 9999"])
    def test_refuses_what_starts_later(self, words: str) -> None:
        with pytest.raises(FutureDateError, match=r"is more than 10 years after today "
                                                  r"\(6 December 2026\)"):
            PartialDate.parse(words).within_horizon(self.TODAY)

    def test_counts_from_a_leap_day_and_near_the_calendars_end(self) -> None:
        assert years_after(date(2024, 2, 29), HORIZON_YEARS) == date(2034, 2, 28)
        assert years_after(date(9995, 1, 1), HORIZON_YEARS) == date.max
        assert PartialDate.parse("9999").within_horizon(date(9995, 1, 1))


class TestBoundedInput:
    def test_a_long_text_is_refused_before_it_is_read(self) -> None:
        with pytest.raises(InvalidDateError, match=r"is too long for a date \(at most 100"):
            PartialDate.parse("2016 " + "x" * 10_000_000)

    @pytest.mark.parametrize("value", [10**5000, 2**64, -(2**70)], ids=["10**5000", "2**64",
                                                                         "-2**70"])
    def test_a_huge_number_is_no_date_and_is_not_spelt_out(self, value: int) -> None:
        with pytest.raises(InvalidDateError) as refused:
            PartialDate.parse(value)
        assert len(str(refused.value)) < 120


@pytest.mark.parametrize(("words", "said"), [
    ("01 January 2020", "1 January 2020"), ("by 05 June 2016", "by 5 June 2016"),
    ("01-03 May 2016", "1-3 May 2016"), ("late 2016", "late 2016"),
    ("2020-01-01", "1 January 2020")])
def test_a_day_is_said_one_way(words: str, said: str) -> None:
    assert str(PartialDate.parse(words)) == said
    stored = PartialDate.parse(words).to_dict()
    assert str(PartialDate.from_dict({**stored, "text": words if stored["text"] else None})) \
        == said
