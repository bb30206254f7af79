"""Stop signals as one orderly stop: what ``deferred`` and ``shielded`` promise."""

from __future__ import annotations

import os
import signal
import sys

import pytest

from triage.interrupts import Stopped, deferred, exit_status, install, shielded

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@pytest.fixture
def installed():
    restore = install()
    yield
    restore()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_every_stop_signal_is_a_keyboard_interrupt_with_its_exit_status(installed, signum: int) -> None:
    with pytest.raises(KeyboardInterrupt) as caught:
        os.kill(os.getpid(), signum)
    assert isinstance(caught.value, Stopped) and exit_status(caught.value) == 128 + signum


def test_a_signal_inside_a_deferred_section_stops_when_it_ends(installed) -> None:
    finished = False
    with pytest.raises(Stopped):
        with deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            finished = True
    assert finished


def test_a_signal_inside_a_shielded_section_is_ignored(installed) -> None:
    with shielded():
        os.kill(os.getpid(), signal.SIGTERM)
    # The shield swallowed it: nothing is raised afterwards either.
    with deferred():
        pass


def test_a_second_signal_while_stopping_is_ignored(installed) -> None:
    with pytest.raises(Stopped):
        os.kill(os.getpid(), signal.SIGHUP)
    os.kill(os.getpid(), signal.SIGTERM)  # the clean-up goes on


def test_a_plain_keyboard_interrupt_is_exit_130() -> None:
    assert exit_status(KeyboardInterrupt()) == 130
