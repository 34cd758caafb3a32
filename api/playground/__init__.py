"""The playground: one static page at `/` that drives the public API and sockets."""
