"""Finding things in the ladder: embedders and their ONNX export, the index (chunks, FAISS, BM25), the words
of a question, question understanding (a typed result), request kinds, ranking and the scope guard.

May import: ``bot.core``.
"""
