"""The demo programme: three regions, a confirmed stage and a running one."""

from datetime import date

from surveyapp.programmes.demo import seed_demo_programme
from surveyapp.programmes.models import ParticipationStatus
from surveyapp.programmes.services import stage_progress


def test_demo_programme_shows_advance_drop_out_and_re_entry(app, runner):
    programme = seed_demo_programme(today=date(2027, 2, 10))
    first, second = programme.stages
    assert (first.starts_on, first.ends_on) == (date(2026, 10, 1), date(2026, 12, 31))
    assert (second.starts_on, second.ends_on) == (date(2027, 1, 1), date(2027, 3, 31))
    outcome = {p.unit.code: p.status for p in first.participations}
    assert outcome == {"nrw": ParticipationStatus.ADVANCED,
                       "sachsen": ParticipationStatus.ADVANCED,
                       "berlin": ParticipationStatus.DROPPED_OUT}
    levels = {p.unit.code: (p.level, p.attempt) for p in second.participations}
    assert levels == {"nrw": (2, 1), "sachsen": (2, 1), "berlin": (1, 2)}
    assert all(len(row.marks) == 2 for row in stage_progress(second))
    assert seed_demo_programme(today=date(2027, 2, 10)) is None
    result = runner.invoke(args=["seed-demo", "--no-responses"])
    assert result.exit_code == 0, result.output
