"""``make run``'s restart policy: the delays before a stopped service is started again, and what restarts."""

from workers import run_all
from workers.supervisor import Backoff, seconds


def test_delays_double_from_one_second_up_to_a_minute():
    backoff = Backoff()
    assert [backoff.delay(stops) for stops in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_delays_of_a_custom_backoff():
    backoff = Backoff(base=0.1, cap=0.4)
    assert [backoff.delay(stops) for stops in range(1, 6)] == [0.1, 0.2, 0.4, 0.4, 0.4]
    assert backoff.delay(0) == 0.1  # never less than the base


def test_a_service_that_ran_a_minute_starts_its_count_again():
    backoff = Backoff()
    assert backoff.stops_in_a_row(0, uptime=0.5) == 1
    assert backoff.stops_in_a_row(6, uptime=59.9) == 7
    assert backoff.stops_in_a_row(6, uptime=60.0) == 1
    assert backoff.delay(backoff.stops_in_a_row(6, uptime=3600)) == 1


def test_delays_are_written_the_french_way():
    assert [seconds(value) for value in (1.0, 2, 60.0, 0.5, 0.25)] == ["1 s", "2 s", "60 s", "0,5 s", "0,25 s"]


def test_make_run_restarts_worker_beat_and_mail_sink_but_stops_everything_with_the_web_server(monkeypatch):
    monkeypatch.delenv("MAIL_SERVER", raising=False)
    services = run_all.services(port="5000", host="127.0.0.1")
    assert {service.name: service.essential for service in services} == {
        "web": True,
        "worker": False,
        "beat": False,
        "mail": False,
    }
    assert (run_all.BACKOFF.base, run_all.BACKOFF.cap, run_all.BACKOFF.stable_after) == (1.0, 60.0, 60.0)


def test_make_run_starts_no_mail_sink_when_a_real_smtp_server_is_configured(monkeypatch):
    monkeypatch.setenv("MAIL_SERVER", "smtp.cdg47.example")
    assert [service.name for service in run_all.services(port="5000", host="127.0.0.1")] == ["web", "worker", "beat"]
