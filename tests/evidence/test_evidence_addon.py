"""The EvidenceExporter addon: option, hooks (after the engine, never raising), and the two commands."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from mitmproxy import exceptions
from mitmproxy.addons import view
from mitmproxy.proxy.layers.http import HttpErrorHook, HttpResponseHook
from mitmproxy.test import taddons

from apigw_doctor.evidence import addon as addon_module
from apigw_doctor.evidence.addon import EvidenceExporter
from tests.evidence.evidence_helpers import id_claims, make_flow, make_keys, metadata, mint

KEYS = make_keys()
TOKEN = mint(KEYS, id_claims())


async def invoke(result):
    """Call a hook as mitmproxy does: await what it returns, if anything (our hooks return None when idle)."""
    if result is not None:
        await result


def failing_flow(**kw):
    kw.setdefault("metadata", metadata(claims=id_claims()))
    return make_flow(headers=[("Authorization", f"Bearer {TOKEN}")], **kw)


class FakeEngine:
    """Stands in for the engine addon: annotates in `response`, as the real one does."""

    def response(self, f):
        f.metadata["apigw_doctor"] = metadata(claims=id_claims())


def test_option_declared_and_validated(tmp_path):
    a = EvidenceExporter()
    with taddons.context(a) as tctx:
        assert tctx.options.apigw_evidence_dir is None
        tctx.configure(a, apigw_evidence_dir=str(tmp_path / "new" / "dir"))
        assert a.directory == tmp_path / "new" / "dir" and a.directory.is_dir()
        blocker = tmp_path / "file"
        blocker.write_text("x")
        with pytest.raises(exceptions.OptionsError, match="apigw_evidence_dir"):
            tctx.configure(a, apigw_evidence_dir=str(blocker / "sub"))
        tctx.configure(a, apigw_evidence_dir=None)
        assert a.directory is None


def test_option_settable_from_a_string(tmp_path):
    a = EvidenceExporter()
    with taddons.context(a) as tctx:
        tctx.options.set(f"apigw_evidence_dir={tmp_path}")
        assert a.directory == tmp_path


def test_response_writes_one_bundle_per_diagnosed_flow(tmp_path):
    async def run():
        a = EvidenceExporter()
        with taddons.context(a) as tctx:
            tctx.configure(a, apigw_evidence_dir=str(tmp_path))
            f = failing_flow()
            before = f.get_state()
            await invoke(a.response(f))
            await invoke(a.error(f))  # a flow can see both; one bundle
            assert f.get_state() == before
            await invoke(a.response(failing_flow(metadata=metadata(cause=None, warnings=("expires-soon",)))))
            await invoke(a.response(make_flow()))  # no metadata
            a.done()  # drains the writer
            return f

    f = asyncio.run(run())
    dirs = list(tmp_path.iterdir())
    assert len(dirs) == 1 and dirs[0].name.endswith(f.id[:8])
    assert json.loads((dirs[0] / "report.json").read_text())["flow_id"] == f.id


def test_nothing_written_without_the_option(tmp_path):
    async def run():
        a = EvidenceExporter()
        with taddons.context(a):
            await invoke(a.response(failing_flow()))

    asyncio.run(run())
    assert not list(tmp_path.iterdir())


def test_runs_after_the_engine_in_the_addon_chain(tmp_path):
    async def run():
        a = EvidenceExporter()
        with taddons.context(FakeEngine(), a) as tctx:
            tctx.configure(a, apigw_evidence_dir=str(tmp_path))
            f = make_flow(headers=[("Authorization", f"Bearer {TOKEN}")])
            await tctx.master.addons.handle_lifecycle(HttpResponseHook(f))
            g = make_flow(status=None, metadata=metadata(cause="authorizer-error"))
            await tctx.master.addons.handle_lifecycle(HttpErrorHook(g))
            a.done()

    asyncio.run(run())
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 2 and any("-401-token-expired-" in n for n in names)
    assert any("-error-authorizer-error-" in n for n in names)


def test_hook_never_raises(tmp_path, monkeypatch, caplog):
    def boom(*_args, **_kw):
        raise OSError("no permission here")

    monkeypatch.setattr(addon_module, "write_bundle", boom)

    async def run():
        a = EvidenceExporter()
        with taddons.context(a) as tctx:
            tctx.configure(a, apigw_evidence_dir=str(tmp_path))
            await invoke(a.response(failing_flow()))
            a.done()

    with caplog.at_level(logging.WARNING):
        asyncio.run(run())
    lines = [r.getMessage() for r in caplog.records if "could not write evidence" in r.getMessage()]
    assert len(lines) == 1 and "no permission here" in lines[0]


def test_commands_by_name(tmp_path):
    a = EvidenceExporter()
    v = view.View()
    with taddons.context(v, a) as tctx:
        flows = [failing_flow(), make_flow(status=200, response_content=b"{}")]
        v.add(flows)
        out = tctx.master.commands.execute(f"apigw.evidence @all {tmp_path / 'cmd'}")
        assert (tmp_path / "cmd").is_dir() and out.startswith(str(tmp_path / "cmd"))
        har = tctx.master.commands.execute(f"apigw.har @all {tmp_path / 'x.har'}")
        assert json.loads((tmp_path / "x.har").read_text())["log"]["entries"][0]["comment"].startswith("HTTP 401")
        assert har == str(tmp_path / "x.har")
        with pytest.raises(exceptions.CommandError):
            tctx.master.commands.execute(f"apigw.evidence @marked {tmp_path / 'none'}")


def test_command_names_are_routable_by_mitmweb():
    a = EvidenceExporter()
    with taddons.context(a) as tctx:
        names = [n for n in tctx.master.commands.commands if n.startswith("apigw.")]
    assert names and all(n.replace(".", "").isalpha() and n.islower() for n in names)
