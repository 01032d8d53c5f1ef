"""Tests-only mitmdump script: send every connection for an AWS host name to the local e2e upstream.

Only the TCP address changes (in `server_connect`), so the Host header and the upstream SNI keep the real AWS name
(`abc123defg.execute-api.us-east-1.amazonaws.com`) and the client does no DNS at all. mitmproxy then records the
request URL with the rewritten address; once the exchange is over (`response`), the recorded URL gets the AWS name
and port back, so the flow file and the HAR look like a capture against AWS. Nothing that was sent changes.

Load it with `-s` *before* `addons/apigw_doctor_addon.py` (hooks run in load order) and
`--set e2e_upstream=127.0.0.1:PORT`.
"""

from mitmproxy import ctx

_AWS_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".on.aws", ".amazoncognito.com")


def _is_aws(host) -> bool:
    return isinstance(host, str) and host.lower().endswith(_AWS_SUFFIXES)


class E2eUpstreamRedirect:
    def load(self, loader):
        loader.add_option("e2e_upstream", str, "", "host:port that every AWS host name is sent to (tests only).")

    def server_connect(self, data):
        target = ctx.options.e2e_upstream
        address = data.server.address
        if not target or not address or not _is_aws(address[0]):
            return
        host, _, port = target.rpartition(":")
        data.server.address = (host, int(port))

    def response(self, flow):
        sni = flow.server_conn.sni
        if ctx.options.e2e_upstream and _is_aws(sni) and flow.request.host != sni:
            host_header = flow.request.host_header
            flow.request.host, flow.request.port = sni, 443
            flow.request.host_header = host_header


addons = [E2eUpstreamRedirect()]
