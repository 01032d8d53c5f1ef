"""Tests-only mitmdump script: make the apigw-doctor engine raise on every flow.

Loaded with `-s` after `addons/apigw_doctor_addon.py`. It replaces the engine entry point the addon calls, so the
live containment test can check that a broken engine never changes what the client gets.
"""

import apigw_doctor.addon as _addon


def _broken_engine(flow, knowledge, **_):
    raise RuntimeError("engine broken on purpose by tests/e2e/break_engine.py")


_addon.observe_flow = _broken_engine
