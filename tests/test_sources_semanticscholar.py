"""The Semantic Scholar client: endpoints, paging, retries, pacing, errors — against the fake server
and against the real recorded responses in ../shared/data/s2_examples."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx
import pytest

from fake_s2 import FakeS2, every, make_graph
from rlmllm_graph.errors import ApiUnreachable, BadInput, MalformedResponse, PaperNotFound, RateLimited, SourceError
from rlmllm_graph.sources import S2Client
from rlmllm_graph.sources.semanticscholar import PACE_WITH_KEY, PACE_WITHOUT_KEY, PAPER_FIELDS

SEED = "ARXIV:2504.21277"


def _first(kinds):
    """A plan where the first len(kinds) requests fail in turn."""
    return lambda i, req: kinds[i - 1] if i <= len(kinds) else None


@pytest.fixture(scope="module")
def graph():
    return make_graph(30, 2500, elided_citers=4)


@pytest.fixture
def fake(graph):
    with FakeS2(graph) as f:
        yield f


def client(url: str, **kw) -> S2Client:
    kw.setdefault("pace", 0)
    kw.setdefault("backoff", 0.001)
    kw.setdefault("timeout", 2.0)
    return S2Client(url, **kw)


def test_batch_returns_papers_in_order_with_null_for_unknown_ids(fake, graph):
    c = client(fake.url)
    seed = graph[0]
    out = c.fetch_batch(["CorpusId:999999999", SEED, graph[1].paper_id])
    assert out[0] is None
    assert out[1]["paperId"] == seed.paper_id and out[1]["title"] == seed.title
    assert out[1]["externalIds"]["ArXiv"] == "2504.21277"
    assert out[2]["paperId"] == graph[1].paper_id
    assert c.requests == 1


def test_batch_refuses_more_than_500_ids_and_the_fake_says_400(fake):
    with pytest.raises(ValueError, match="at most 500"):
        client(fake.url).fetch_batch([f"CorpusId:{i}" for i in range(501)])
    r = httpx.post(f"{fake.url}/graph/v1/paper/batch", params={"fields": "title"},
                   json={"ids": [f"CorpusId:{i}" for i in range(501)]})
    assert r.status_code == 400 and "500" in r.json()["error"]


def test_batch_nested_references_stop_silently_past_the_budget(graph):
    with FakeS2(graph, nested_budget=50) as f:
        out = client(f.url).fetch_batch([p.paper_id for p in graph[40:50]], fields=("paperId", "references.paperId"))
    lengths = [len(p["references"]) for p in out]
    assert sum(lengths) <= 50
    assert lengths[-1] == 0  # later papers get empty lists, and no error


def test_citations_pages_of_1000_with_next_absent_on_the_last(fake, graph):
    c = client(fake.url)
    seed = graph[0]
    p1 = c.fetch_citations(seed.paper_id)
    assert (p1.offset, p1.next, len(p1.links)) == (0, 1000, 1000)
    p3 = c.fetch_citations(seed.paper_id, offset=2000)
    assert p3.next is None and len(p3.links) == 2500 + 4 - 2000
    elided = [lk for lk in p3.links if lk.paper_id is None]
    assert len(elided) == 4  # citingPaper.paperId null
    assert all(lk.reference_count is not None for lk in p3.links if lk.paper_id)
    assert "limit=1000" in fake.log[0]["path"]


def test_paging_never_asks_past_the_9999_reachable_items(fake, graph):
    page = client(fake.url).fetch_citations(graph[0].paper_id, offset=9500)
    assert page.links == [] and page.next is None
    assert "limit=499" in fake.log[-1]["path"]


def test_references_page_and_elided_entries(fake, graph):
    page = client(fake.url).fetch_references(graph[0].paper_id)
    assert page.next is None
    assert len([lk for lk in page.links if lk.paper_id]) == 30
    assert len([lk for lk in page.links if lk.paper_id is None]) == 2


def test_data_null_is_an_empty_last_page(graph):
    papers = make_graph(3, 3)
    papers[0].data_null = True
    with FakeS2(papers) as f:
        page = client(f.url).fetch_citations(papers[0].paper_id)
    assert page.data_null and page.links == [] and page.next is None


def test_unknown_paper_is_paper_not_found(fake):
    c = client(fake.url)
    with pytest.raises(PaperNotFound, match="^paper not found: 0$"):
        c.fetch_citations("0")
    with pytest.raises(PaperNotFound) as e:
        c.fetch_paper("CorpusId:424242")
    assert e.value.exit_code == 2


def test_api_key_is_sent_on_every_endpoint_and_never_shown(graph):
    key = "sk-test-very-secret"
    with FakeS2(graph, faults=every(3, ["403"])) as f:
        c = client(f.url, api_key=key)
        c.fetch_batch([SEED])
        c.fetch_citations(graph[0].paper_id)
        with pytest.raises(SourceError) as e:
            c.fetch_references(graph[0].paper_id)
        assert [r["api_key"] for r in f.log] == [key, key, key]
    assert "S2_API_KEY" in str(e.value) and key not in str(e.value)
    assert key not in repr(c)


def test_default_pacing_is_conservative_without_a_key():
    assert S2Client().pace == PACE_WITHOUT_KEY >= 2
    assert S2Client(api_key="k").pace == PACE_WITH_KEY == 1.0
    assert S2Client(pace=0).pace == 0


def test_pacing_spaces_requests(fake):
    c = client(fake.url, pace=0.05)
    t = time.monotonic()
    for _ in range(4):
        c.fetch_batch([SEED])
    assert time.monotonic() - t >= 0.15


def test_api_url_may_include_graph_v1(fake):
    c = client(fake.url + "/graph/v1/")
    assert c.fetch_batch([SEED])[0] is not None


@pytest.mark.parametrize("fault", ["500", "502", "503", "429", "timeout", "malformed", "reset"])
def test_transient_failures_are_retried(graph, fault):
    with FakeS2(graph, faults=_first([fault]), slow_seconds=1.5) as f:
        c = client(f.url, timeout=0.5)
        out = c.fetch_batch([SEED])
    assert out[0]["paperId"] == graph[0].paper_id
    assert c.requests == 2 and c.retries == 1


def test_retry_after_is_honoured_and_backoff_grows_with_jitter(graph):
    slept: list[float] = []
    with FakeS2(graph, faults=_first(["429-retry-after:7", "429", "500", "503"])) as f:
        c = S2Client(f.url, pace=0, backoff=1.0, sleep=slept.append, seed=1)
        c.fetch_batch([SEED])
    assert 7 <= slept[0] < 7.3  # Retry-After wins
    assert 1.0 <= slept[1] <= 2.0 and 2.0 <= slept[2] <= 4.0 and 4.0 <= slept[3] <= 8.0  # 2**n with jitter


def test_retry_after_as_http_date(graph):
    slept: list[float] = []
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    with FakeS2(graph, faults=_first([f"429-retry-after:{date}"])) as f:
        S2Client(f.url, pace=0, backoff=0.001, sleep=slept.append).fetch_batch([SEED])
    assert 25 < slept[0] <= 31


@pytest.mark.parametrize(
    "fault, error, words",
    [
        ("429", RateLimited, ["429", "S2_API_KEY", "/graph/v1/paper/batch"]),
        ("503", SourceError, ["503", "/graph/v1/paper/batch"]),
        ("malformed", MalformedResponse, ["not JSON"]),
        ("timeout", ApiUnreachable, ["did not answer", "S2_API_KEY"]),
    ],
)
def test_repeated_failure_gives_a_clear_error(graph, fault, error, words):
    with FakeS2(graph, faults=lambda i, req: fault, slow_seconds=0.3) as f:
        c = client(f.url, max_attempts=3, timeout=0.1)
        with pytest.raises(error) as e:
            c.fetch_batch([SEED])
        assert f.count() == 3
    for w in words:
        assert w in str(e.value)


def test_unreachable_api_names_the_url_and_suggests_the_fixes():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    c = client(f"http://127.0.0.1:{port}")
    with pytest.raises(ApiUnreachable) as e:
        c.fetch_batch([SEED])
    msg = str(e.value)
    assert f"http://127.0.0.1:{port}/graph/v1/paper/batch" in msg
    assert "--api-url" in msg and "S2_API_KEY" in msg
    assert c.requests == 3  # connect_attempts


def test_unknown_field_is_a_rejected_request(fake):
    with pytest.raises(SourceError, match="HTTP 400.*Unrecognized"):
        client(fake.url).fetch_batch([SEED], fields=("title", "nonsense"))


def test_our_fields_are_all_known_to_the_fake(fake, graph):
    c = client(fake.url)
    c.fetch_batch([SEED], fields=PAPER_FIELDS + ("references.paperId",))
    c.fetch_references(graph[0].paper_id)
    c.fetch_citations(graph[0].paper_id)
    assert {r["status"] for r in fake.log} == {200}


# -- the real recorded responses -------------------------------------------------------------------


def _recorded(shared_data: Path):
    ex = shared_data / "s2_examples"
    files = {p.name: json.loads(p.read_text()) for p in ex.glob("*.json")}

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/paper/batch"):
            name = "paper_batch_with_null_for_unknown_id.json"
        elif path.endswith("/citations"):
            name = "citations_page_first.json" if request.url.params["offset"] == "0" else "citations_page_last_no_next.json"
        elif path.endswith("/references"):
            name = "references_page_first.json" if request.url.params["offset"] == "0" else "references_page_last_no_next.json"
        else:
            name = "paper_get_404_not_found.json"
        resp = files[name]["response"]
        return httpx.Response(resp["status"], json=resp["body"])

    return S2Client("https://api.example", http=httpx.Client(transport=httpx.MockTransport(handler)), pace=0)


def test_real_recorded_shapes_parse(shared_data):
    c = _recorded(shared_data)
    out = c.fetch_batch(["CorpusId:211530585", "CorpusId:470667", "10.2139/ssrn.2250500", "0f40b1f08821e22e859c6050916cec3667778613"])
    assert out[0] is None and out[1]["paperId"] == "c31c87c591a25c64fbaa82e8ac6a81831b6ac7ce"
    first = c.fetch_citations("CorpusID:14514057")
    assert first.next == 100 and len(first.links) == 10
    last = c.fetch_citations("CorpusID:14514057", offset=1800)
    assert last.next is None
    assert any(lk.paper_id is None for lk in last.links) and any(lk.paper_id for lk in last.links)
    refs = c.fetch_references("DOI:10.2139/ssrn.2250500", offset=50)
    assert refs.next is None and any(lk.paper_id is None for lk in refs.links)
    with pytest.raises(PaperNotFound, match="paper not found: 0"):
        c.fetch_paper("0")


@pytest.mark.parametrize("key", ["SECRET\rKEY123", "SECRÉTKEY123", "SECRET KEY123", "SECRET\x00KEY1", "SECRET\nKEY123"])
def test_a_key_a_header_cannot_carry_is_bad_input_that_never_shows_it(key):
    with pytest.raises(BadInput) as e:
        S2Client("http://127.0.0.1:9", api_key=key)
    assert "S2_API_KEY holds characters an HTTP header cannot carry" in str(e.value)
    assert "SECRET" not in str(e.value) and "KEY123" not in str(e.value)


def test_blanks_around_the_key_are_dropped(fake):
    c = client(fake.url, api_key=" sk-test\r\n")
    c.fetch_batch([SEED])
    assert [r["api_key"] for r in fake.log] == ["sk-test"]
    assert "key=no" in repr(client(fake.url, api_key=" \t"))  # blank: no key


@pytest.mark.parametrize("bad", ["SECRETKEY123\r", "SECRÉTKEY123"])
def test_a_request_that_cannot_be_sent_is_not_retried_and_never_shows_the_key(fake, bad):
    c = client(fake.url)
    c._headers = {"x-api-key": bad}  # past the constructor's check, as a caller could do
    t = time.monotonic()
    with pytest.raises(SourceError) as e:
        c.fetch_batch([SEED])
    assert time.monotonic() - t < 20  # not the 7 retries with back-off it used to take
    assert c.requests == 1 and c.retries == 0 and fake.count() == 0
    assert "SECRET" not in str(e.value) and "KEY123" not in str(e.value)
    assert str(e.value).startswith("cannot send POST ")


def test_any_http_layer_message_has_the_key_replaced(graph):
    key = "sk-test-very-secret"

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"proxy refused header x-api-key: {request.headers['x-api-key']}")

    c = client("http://s2.invalid", api_key=key, http=httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(ApiUnreachable) as e:
        c.fetch_citations(SEED)
    assert key not in str(e.value) and "***" in str(e.value)
    assert e.value.__cause__ is None and e.value.__context__ is None


@pytest.mark.parametrize("kw", [{"pace": float("inf")}, {"pace": float("nan")}, {"pace": -1.0},
                                {"backoff": float("inf")}, {"backoff": float("nan")},
                                {"timeout": float("inf")}, {"timeout": 0.0}])
def test_pace_backoff_and_timeout_must_be_finite(kw):
    with pytest.raises(BadInput):
        S2Client("http://127.0.0.1:9", **kw)


@pytest.mark.parametrize("url", ["", "   ", "http://", "http:///graph/v1", "http://[::1", "http://h:99999",
                                 "http://h:abc", "http://a b", "http://h\nx", "ftp://h", "api.semanticscholar.org"])
def test_a_bad_api_url_is_bad_input(url):
    with pytest.raises(BadInput) as e:
        S2Client(url)
    assert "API URL" in str(e.value) or "empty" in str(e.value)


def test_no_api_url_is_the_default_and_ipv6_hosts_work():
    assert S2Client(None).api_url == "https://api.semanticscholar.org"
    assert S2Client("http://[::1]:8080/").base == "http://[::1]:8080/graph/v1"


def test_an_api_url_with_credentials_or_a_query_is_refused_without_echoing_them():
    with pytest.raises(BadInput) as e:
        S2Client("http://user:s3cretpw@127.0.0.1:9/graph/v1")
    assert "s3cretpw" not in str(e.value) and "user name or password" in str(e.value)
    for url in ("http://h/graph/v1?x=1", "http://h/graph/v1#frag"):
        with pytest.raises(BadInput, match="no \\?query or #fragment"):
            S2Client(url)
