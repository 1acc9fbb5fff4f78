"""Page builders: each takes plain tables and arrays and writes its pages through a Renderer."""
