from domain.streaming import DeltaCoalescer


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_first_piece_goes_out_at_once_then_at_most_one_delta_per_interval():
    clock, sent = FakeClock(), []
    coalescer = DeltaCoalescer(lambda text, index, reset: sent.append((index, text)), min_interval=0.05, clock=clock)

    coalescer.add("Bon")
    coalescer.add("jour")
    clock.now = 0.02
    coalescer.add(" !")
    clock.now = 0.06
    coalescer.add(" Ça")
    coalescer.add(" va ?")
    coalescer.flush()

    assert sent == [(0, "Bon"), (1, "jour ! Ça"), (2, " va ?")]
    assert coalescer.text == "Bonjour ! Ça va ?"
    assert "".join(text for _, text in sent) == coalescer.text


def test_flush_with_nothing_buffered_sends_nothing():
    sent = []
    coalescer = DeltaCoalescer(lambda text, index, reset: sent.append(text), min_interval=0.05)
    coalescer.add("")
    coalescer.flush()
    assert sent == []


def test_a_restart_drops_the_partial_reply_and_flags_the_next_delta():
    clock, sent = FakeClock(), []
    coalescer = DeltaCoalescer(lambda text, index, reset: sent.append((index, text, reset)), min_interval=0.05,
                               clock=clock)
    coalescer.add("Bonjour, je")
    coalescer.add(" suis")  # buffered, never sent
    coalescer.restart()
    coalescer.add("Salut !")
    coalescer.add(" Ça va ?")
    coalescer.flush()

    assert sent == [(0, "Bonjour, je", False), (1, "Salut !", True), (2, " Ça va ?", False)]
    assert coalescer.text == "Salut ! Ça va ?"


def test_a_restart_before_anything_was_sent_needs_no_reset():
    sent = []
    coalescer = DeltaCoalescer(lambda text, index, reset: sent.append(reset), min_interval=0.05)
    coalescer.restart()
    coalescer.add("Salut")
    assert sent == [False]
