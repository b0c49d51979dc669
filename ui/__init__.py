"""The Gradio page: one module per tab, `page.build_page` wires them together."""
