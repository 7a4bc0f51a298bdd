"""Serving a trained model over an OpenAI-compatible HTTP API (`jsontune serve`).

- `protocol`: the chat-completions wire format: the checked request, the answer, the OpenAI error object
- `chat`: a chat request made into a decoding-engine request (the trained prompt, the grammar, the budget)
- `worker`: the model's one thread, driving the decoding engine; the bounded queue
- `app`: the FastAPI app (endpoints, key, body limit, timeouts, disconnects)
- `streaming`: `stream: true`, the answer as server-sent events
- `options`, `server`: the command's options, and loading the model and running uvicorn
"""
