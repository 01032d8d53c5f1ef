"""`mitmdump -nr FILE -s addons/apigw_doctor_addon.py -s tests/offline/export_commands.py` (tests only).

Collects the flows read from FILE (after apigw-doctor annotated them: this script is loaded after the addon) and, in
`done`, exports them with apigw-doctor's own mitmproxy commands, as a user would from the command bar:
`apigw.har @all PATH` and `apigw.evidence @all DIR`.
"""

from __future__ import annotations

import os

from mitmproxy import ctx, http


class OfflineExportProbe:
    def __init__(self) -> None:
        self.flows: list[http.HTTPFlow] = []

    def load(self, loader) -> None:  # type: ignore[no-untyped-def]
        loader.add_option("offline_export_dir", str, "", "Directory for apigw.har / apigw.evidence output (tests).")

    def response(self, flow: http.HTTPFlow) -> None:
        self.flows.append(flow)

    def done(self) -> None:
        out = ctx.options.offline_export_dir
        if not out or not self.flows:
            return
        ctx.master.commands.call("apigw.har", self.flows, os.path.join(out, "apigw.har"))
        ctx.master.commands.call("apigw.evidence", self.flows, os.path.join(out, "apigw-evidence"))


addons = [OfflineExportProbe()]
