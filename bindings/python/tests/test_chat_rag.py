"""ChatStore / Chat (persisted, resumed, streamed) and Rag (search, grounded answers)."""
import os
import tempfile
import unittest

import stemma
from . import _util
from ._util import engine

CORPUS = os.path.join(_util.SOURCE_DIR, "tests/sdk/rag/corpus")


class ChatTest(unittest.TestCase):
    def test_persisted_chat_resumes(self):
        system = _util.faq_system_prompt()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "chats.db")
            with stemma.ChatStore(path) as store:
                chat = stemma.Chat(engine(), store, system_prompt=system)
                question = "How do I reset my Lumora Hub?"
                reply = chat.send(question, max_tokens=80)
                # The reply is what generate gives for the rendered conversation.
                expected = engine().generate(engine().chat_format(
                    [{"role": "system", "content": system},
                     {"role": "user", "content": question}]), max_tokens=80)
                self.assertEqual(reply, expected)
                session = chat.id
                history = chat.history
                chat.close()
            with stemma.ChatStore(path) as store:
                chat = stemma.Chat.resume(engine(), store, session)
                self.assertEqual(chat.history, history)
                pieces = list(chat.stream("And the battery?", max_tokens=40))
                self.assertEqual(chat.history[-1],
                                 {"role": "assistant", "content": "".join(pieces)})
                chat.close()
                with self.assertRaises(stemma.NotFound):
                    stemma.Chat.resume(engine(), store, session + 99)

    def test_unpersisted_chat_and_cancel(self):
        chat = stemma.Chat(engine())
        with self.assertRaises(stemma.FailedPrecondition):
            chat.id
        n = [0]

        def two(piece):
            n[0] += 1
            return n[0] < 2

        reply = chat.send("How do I reset my Lumora Hub?", max_tokens=50, on_text=two)
        self.assertEqual(reply.finish, "cancelled")
        self.assertEqual([m["role"] for m in chat.history], ["user"])
        chat.close()


class RagTest(unittest.TestCase):
    def setUp(self):
        self.rag = stemma.Rag(":memory:")
        for name in ("setup_guide.md", "network_settings.md", "troubleshooting.md"):
            with open(os.path.join(CORPUS, name), encoding="utf-8") as f:
                self.assertGreater(self.rag.add_document(name, f.read(), title=name), 0)
        with open(os.path.join(CORPUS, "faq.json"), encoding="utf-8") as f:
            self.faq = f.read()
        self.assertGreater(self.rag.add_faq(self.faq), 0)

    def tearDown(self):
        self.rag.close()

    def test_faq_questions_find_their_entry(self):
        import json
        for entry in json.loads(self.faq):
            hits = self.rag.search(entry["question"], top_k=3)
            self.assertEqual(hits[0]["doc_id"], entry["id"])
            self.assertEqual(hits[0]["text"], entry["answer"])
            self.assertEqual(hits[0]["kind"], "qa")

    def test_answer_cites_sources_and_streams(self):
        question = "How do I cancel my Aurora Secure subscription?"
        answer = self.rag.answer(engine(), question, top_k=3, max_tokens=40)
        self.assertIn("faq-002", answer.sources)
        hit_ids = {h["doc_id"] for h in self.rag.search(question, top_k=3)}
        self.assertTrue(all(s.split("#")[0] in hit_ids for s in answer.sources))
        pieces = list(self.rag.stream_answer(engine(), question, top_k=3, max_tokens=40))
        self.assertEqual("".join(pieces), answer)
        with self.assertRaises(stemma.InvalidArgument):
            self.rag.search("x", top_k=0)
        with self.assertRaises(stemma.InvalidArgument):
            self.rag.add_faq([{"id": "x", "question": 1}])


if __name__ == "__main__":
    unittest.main()
