"""The loopback OpenAI-compatible model server of the tests (tests/support/fake_llm.py),
as a process of its own for benchmarks: every request answers after `--latency` seconds,
connections are kept alive as a real API's are, and waiting costs no thread (gevent).

    .venv/bin/python bench/model_server.py --port 8900 --latency 1

`GET /_calls` lists the calls received (path, kind, body), so a benchmark can count the
paid calls of each turn.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support.fake_llm import FakeProvider  # noqa: E402

# About the length of a tutor's reply at A2 (some 50 tokens), streamed a few words per event.
REPLY = ("Oh, super ! Tu es allé au marché avec tes amies hier ? Moi aussi, j'adore le marché "
         "le samedi matin : les fromages, les fruits, les fleurs... Qu'est-ce que vous avez acheté ? "
         "Et après, vous avez mangé ensemble ?")
CORRECTIONS = {"corrections": [{"wrong": "mes amie", "correction": "mes amies", "category": "number_agreement",
                                "explanation": "Plural after mes."}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed on the first line)")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds before every response starts")
    parser.add_argument("--piece-delay", type=float, default=0.0, help="seconds between streamed pieces")
    parser.add_argument("--words-per-piece", type=int, default=2, help="words of the reply per streamed event")
    args = parser.parse_args()

    server = FakeProvider("openai")
    server.port = args.port
    server.reply_text, server.reply_json = REPLY, CORRECTIONS
    server.delay, server.piece_delay, server.keep_alive = args.latency, args.piece_delay, True
    server.words_per_piece = args.words_per_piece
    server.up()
    print(server.url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.down()


if __name__ == "__main__":
    main()
