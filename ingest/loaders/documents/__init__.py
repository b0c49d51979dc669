"""Document loaders: PDF, HTML, Markdown and plain text files."""
