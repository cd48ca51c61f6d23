"""The SSE parser on its own: line endings, chunk boundaries, comments, ids, multi-line data."""

import unittest

import support  # noqa: F401  (puts the package on the path)
from harmonia._sse import SseFrame, SseParser


def parse(*chunks: bytes) -> list:
    parser = SseParser()
    return [frame for chunk in chunks for frame in parser.feed(chunk)]


class SseParserTests(unittest.TestCase):
    def test_fields_and_dispatch_at_the_blank_line(self) -> None:
        frames = parse(b"event: task_started\ndata: {\"seq\":2}\nid: 2\n\n")
        self.assertEqual(frames, [SseFrame("task_started", '{"seq":2}', "2")])

    def test_any_line_ending_and_chunk_boundaries(self) -> None:
        stream = "event: a\r\ndata: x\r\nid: 1\r\n\r\nevent: b\rdata: y\rid: 2\r\r: keep-alive\n\ndata: é\n\n".encode()
        whole = parse(stream)
        byte_by_byte = parse(*[stream[i:i + 1] for i in range(len(stream))])
        expected = [SseFrame("a", "x", "1"), SseFrame("b", "y", "2"), SseFrame("message", "é", "2")]
        self.assertEqual(whole, expected)
        self.assertEqual(byte_by_byte, expected)

    def test_multi_line_data_retry_and_no_space_after_colon(self) -> None:
        frames = parse(b"retry: 1500\ndata:one\ndata: two\n\n")
        self.assertEqual(frames, [SseFrame("message", "one\ntwo", None, 1500)])

    def test_a_frame_without_data_or_unterminated_is_not_dispatched(self) -> None:
        self.assertEqual(parse(b"event: x\nid: 3\n\n", b"data: cut"), [])


if __name__ == "__main__":
    unittest.main()
