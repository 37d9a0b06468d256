"""Reading a story: text decoding, paragraphs, chapters, EPUB."""
