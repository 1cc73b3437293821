from types import SimpleNamespace

from mlops.hooks.base_url import connection_url


def test_connection_url_accepts_full_urls_and_host_port_pairs() -> None:
    assert connection_url(SimpleNamespace(host="http://h:1/", schema=None, port=None)) == "http://h:1"
    assert connection_url(SimpleNamespace(host="h", schema="https", port=9)) == "https://h:9"
    assert connection_url(SimpleNamespace(host="h", schema=None, port=None)) == "http://h"
