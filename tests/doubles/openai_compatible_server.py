"""A local OpenAI-compatible HTTP server: the test double for the LLM and the embedder.

It answers deterministically, so tests can assert what ends up in the graph:
  GET  /v1/models
  POST /v1/embeddings          hashed bag-of-words vectors (texts sharing words are near)
  POST /v1/chat/completions    structured outputs for each graphiti prompt (dispatched on the
                               json_schema name graphiti sends), plain text otherwise, and SSE
                               streaming (`stream: true`) for OpenCode's provider
  GET  /_requests              every request received (path + JSON body), oldest first
  DELETE /_requests            forget them
  POST /_faults                {"status": 503, "count": N}: fail the next N model calls (an outage);
                               {"delay_seconds": S}: answer chat completions S seconds late (slow model)
  (in process) rate_limit(S, R): every model call answered 429 with Retry-After: R for the next S seconds

A user message with a line `RUN-BASH: <command>` makes the streamed chat answer call OpenCode's bash tool with that
command (when the request offers the tool and its last message is not yet the tool's result); the turn then ends with
a plain reply.

Entities are the capitalised words of the current message; facts are sentences naming two
entities ("Orion uses Postgres" -> Orion -USES-> Postgres); "Orion now uses MySQL" contradicts (invalidates) it. A message containing POISON-PILL is
refused with HTTP 400 every time (a poisoned episode).

Run: python tests/doubles/openai_compatible_server.py --port 8080 [--dim 256]
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import math
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

POISON_MARKER = 'POISON-PILL'
RUN_BASH = re.compile(r'^RUN-BASH: (.+)$', re.MULTILINE)
DEFAULT_DIM = 256
MAX_RECORDED_REQUESTS = 2000

# Capitalised words that start sentences rather than name things.
NOT_ENTITIES = {
    'A', 'An', 'The', 'This', 'That', 'These', 'Those', 'It', 'Its', 'We', 'I', 'You', 'He', 'She',
    'They', 'Our', 'My', 'Your', 'And', 'But', 'Or', 'If', 'When', 'Then', 'So', 'Also', 'Please',
    'Yes', 'No', 'OK', 'Ok', 'Hi', 'Hello', 'Thanks', 'In', 'On', 'At', 'For', 'To', 'Of', 'With',
    'user', 'assistant', 'User', 'Assistant',
}
ENTITY_PATTERN = re.compile(r"\b[A-Z][A-Za-z0-9_+#.-]*[A-Za-z0-9+#](?:\s+[A-Z][A-Za-z0-9_+#.-]*[A-Za-z0-9+#])*|\b[A-Z]\b")
WORD_PATTERN = re.compile(r'[a-z0-9]+')


def embed_text(text: str, dim: int) -> list[float]:
    """Hashed bag of words, L2-normalised: shared words give a high cosine similarity."""
    vector = [0.0] * dim
    for word in WORD_PATTERN.findall(text.lower()):
        digest = hashlib.sha256(word.encode()).digest()
        index = int.from_bytes(digest[:4], 'big') % dim
        vector[index] += 1.0 if digest[4] % 2 == 0 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0:
        vector[0] = 1.0
        return vector
    return [v / norm for v in vector]


def section(text: str, tag: str) -> str | None:
    match = re.search(rf'<{re.escape(tag)}>\s*(.*?)\s*</{re.escape(tag)}>', text, re.DOTALL)
    return match.group(1) if match else None


def parse_json_section(text: str, tag: str) -> Any:
    body = section(text, tag)
    if body is None:
        return None
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        return None


def parse_literal_section(text: str, tag: str) -> Any:
    """JSON, or the Python literal graphiti writes into some prompts (a list of dicts in repr form)."""
    parsed = parse_json_section(text, tag)
    body = section(text, tag)
    if parsed is not None or body is None:
        return parsed
    try:
        return ast.literal_eval(body)
    except (ValueError, SyntaxError):
        return None


def current_message(prompt: str) -> str:
    for tag in ('CURRENT MESSAGE', 'CURRENT MESSAGES', 'CURRENT_MESSAGE', 'TEXT', 'JSON', 'EPISODE', 'MESSAGES'):
        body = section(prompt, tag)
        if body is not None:
            return body
    return ''


def strip_speaker(message: str) -> str:
    # Graphiti message episodes look like "user: ..." ; the speaker is not an entity here.
    return re.sub(r'^\s*\w+:\s', '', message)


def extract_entity_names(message: str) -> list[str]:
    names: list[str] = []
    for match in ENTITY_PATTERN.findall(strip_speaker(message)):
        words = [w for w in match.split() if w not in NOT_ENTITIES]
        name = ' '.join(words).strip('.')
        if name and name not in names:
            names.append(name)
    return names


def sentences(message: str) -> list[str]:
    return [s.strip() for s in re.split(r'(?<=[.!?])\s+|\n+', strip_speaker(message)) if s.strip()]


def names_from_entity_list(value: Any) -> list[str]:
    if isinstance(value, dict):
        value = next((v for v in value.values() if isinstance(v, list)), [])
    if not isinstance(value, list):
        return []
    return [str(item['name']) for item in value if isinstance(item, dict) and 'name' in item]


def extract_edges(prompt: str) -> list[dict[str, Any]]:
    message = current_message(prompt)
    known = names_from_entity_list(parse_json_section(prompt, 'ENTITIES')) or extract_entity_names(message)
    edges: list[dict[str, Any]] = []
    for sentence in sentences(message):
        found = sorted(
            ((sentence.find(name), name) for name in known if name and sentence.find(name) >= 0),
        )
        if len(found) < 2:
            continue
        (source_at, source), (target_at, target) = found[0], found[1]
        between = sentence[source_at + len(source):target_at]
        verb_words = WORD_PATTERN.findall(between.lower()) or ['relates', 'to']
        edges.append({
            'source_entity_name': source,
            'target_entity_name': target,
            'relation_type': '_'.join(verb_words).upper(),
            'fact': sentence.rstrip('.') + '.',
            'valid_at': None,
            'invalid_at': None,
            'episode_indices': [0],
        })
    return edges


def resolve_nodes(prompt: str) -> dict[str, Any]:
    extracted = parse_json_section(prompt, 'ENTITIES') or []
    existing = parse_json_section(prompt, 'EXISTING ENTITIES') or []
    existing_by_name = {
        str(item.get('name', '')).lower(): item.get('candidate_id', item.get('idx', -1))
        for item in existing if isinstance(item, dict)
    }
    resolutions = []
    for position, item in enumerate(extracted if isinstance(extracted, list) else []):
        name = str(item.get('name', '')) if isinstance(item, dict) else str(item)
        resolutions.append({
            'id': item.get('id', position) if isinstance(item, dict) else position,
            'name': name,
            'duplicate_candidate_id': existing_by_name.get(name.lower(), -1),
        })
    return {'entity_resolutions': resolutions}


def dedupe_edge(prompt: str) -> dict[str, Any]:
    new_fact = parse_json_section(prompt, 'NEW FACT')
    new_text = new_fact.get('fact') if isinstance(new_fact, dict) else section(prompt, 'NEW FACT')
    existing = parse_literal_section(prompt, 'EXISTING FACTS') or []
    duplicates = [
        item.get('idx') for item in existing
        if isinstance(item, dict) and item.get('fact') == new_text and isinstance(item.get('idx'), int)
    ]
    candidates = existing + (parse_literal_section(prompt, 'FACT INVALIDATION CANDIDATES') or [])
    return {'duplicate_facts': duplicates, 'contradicted_facts': contradicted(str(new_text or ''), candidates)}


def contradicted(new_fact: str, candidates: list[Any]) -> list[int]:
    """A fact "X now <verb>s Y" contradicts every other fact "X <verb>s …" (what a model reads as a change)."""
    change = re.match(r'(\S+) now (\w+) ', new_fact)
    if not change:
        return []
    earlier = re.compile(rf'{re.escape(change.group(1))} (now )?{re.escape(change.group(2))} ')
    return [item['idx'] for item in candidates
            if isinstance(item, dict) and isinstance(item.get('idx'), int) and item.get('fact') != new_fact
            and earlier.match(str(item.get('fact', '')))]


def instance_from_schema(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """A minimal valid instance of a JSON schema (the fallback for prompts without a handler)."""
    if '$ref' in schema:
        return instance_from_schema(defs[schema['$ref'].split('/')[-1]], defs)
    if 'anyOf' in schema:
        options = schema['anyOf']
        return None if any(o.get('type') == 'null' for o in options) else instance_from_schema(options[0], defs)
    if 'default' in schema:
        return schema['default']
    kind = schema.get('type')
    if kind == 'object':
        return {name: instance_from_schema(sub, defs) for name, sub in schema.get('properties', {}).items()}
    return {'array': [], 'string': '', 'integer': 0, 'number': 0.0, 'boolean': False}.get(kind)


def structured_answer(schema_name: str, schema: dict[str, Any], prompt: str) -> dict[str, Any]:
    if schema_name == 'ExtractedEntities':
        names = extract_entity_names(current_message(prompt))
        return {'extracted_entities': [
            {'name': name, 'entity_type_id': 0, 'episode_indices': [0]} for name in names
        ]}
    if schema_name == 'ExtractedEdges':
        return {'edges': extract_edges(prompt)}
    if schema_name == 'CombinedExtraction':  # graphiti's bulk path: entities and facts in one call
        names = extract_entity_names(current_message(prompt))
        return {'extracted_entities': [{'name': name, 'entity_type_id': 0} for name in names],
                'edges': extract_edges(prompt)}
    # A fact stated in the present holds from the time it was said (the episode's reference time), as a model reads it.
    if schema_name == 'EdgeTimestamps':
        return {'valid_at': section(prompt, 'REFERENCE TIME') or None, 'invalid_at': None}
    if schema_name == 'BatchEdgeTimestamps':  # one per fact, in order
        facts = parse_json_section(prompt, 'FACTS')
        return {'timestamps': [
            {'valid_at': fact.get('reference_time') if isinstance(fact, dict) else None, 'invalid_at': None}
            for fact in (facts if isinstance(facts, list) else [])]}
    if schema_name == 'NodeResolutions':
        return resolve_nodes(prompt)
    if schema_name == 'EdgeDuplicate':
        return dedupe_edge(prompt)
    if schema_name == 'SummarizedEntities':
        return {'summaries': []}
    if schema_name == 'Summary':
        return {'summary': current_message(prompt)[:200]}
    return instance_from_schema(schema, schema.get('$defs', {}))


def prompt_text(messages: list[dict[str, Any]]) -> str:
    parts = []
    for message in messages:
        content = message.get('content')
        if isinstance(content, list):
            content = ' '.join(str(p.get('text', '')) for p in content if isinstance(p, dict))
        parts.append(str(content or ''))
    return '\n'.join(parts)


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get('role') == 'user':
            return prompt_text([message])
    return ''


def bash_command_to_run(body: dict[str, Any]) -> str | None:
    """The RUN-BASH command of the last user message, while the bash tool is offered and has not answered yet."""
    messages = body.get('messages') or []
    offered = {tool.get('function', {}).get('name') for tool in body.get('tools') or [] if isinstance(tool, dict)}
    if 'bash' not in offered or not messages or messages[-1].get('role') == 'tool':
        return None
    match = RUN_BASH.search(last_user_text(messages))
    return match.group(1).strip() if match else None


@dataclass
class ServerState:
    dim: int
    requests: list[dict[str, Any]] = field(default_factory=list)
    fault_status: int = 0
    fault_count: int = 0
    chat_delay_seconds: float = 0.0
    # until this time.time(), every model call is answered 429 with Retry-After (a provider's rate limit)
    rate_limited_until: float = 0.0
    embedding_delay_seconds: float = 0.0
    retry_after_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # chat completions being answered now, and for each one answered: its prompt and the prompts answered meanwhile
    # (what a test of concurrent ingestion reads)
    chat_in_flight: dict[int, str] = field(default_factory=dict)
    chat_calls: list[dict[str, Any]] = field(default_factory=list)
    most_chat_in_flight: int = 0

    def record(self, method: str, path: str, body: Any) -> None:
        with self.lock:
            self.requests.append({'method': method, 'path': path, 'body': body, 'at': time.time()})
            del self.requests[:-MAX_RECORDED_REQUESTS]

    def take_fault(self) -> int:
        with self.lock:
            if self.fault_count > 0:
                self.fault_count -= 1
                return self.fault_status
            return 0


class Handler(BaseHTTPRequestHandler):
    server_version = 'OpenAICompatibleDouble/1'
    state: ServerState  # set on the subclass built per server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: the recorded requests are the log

    def send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_json(self) -> Any:
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length else b''
        try:
            return json.loads(raw or b'{}')
        except json.JSONDecodeError:
            return {'_unparsed': raw.decode('utf-8', 'replace')}

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        path = self.path.split('?')[0].rstrip('/')
        if path == '/_requests':
            with self.state.lock:
                self.send_json(200, list(self.state.requests))
            return
        self.state.record('GET', path, None)
        if path in ('/v1/models', '/models'):
            self.send_json(200, {'object': 'list', 'data': [
                {'id': name, 'object': 'model', 'created': 0, 'owned_by': 'double'}
                for name in ('double-chat', 'double-small', 'double-embedding')
            ]})
            return
        if path in ('', '/health'):
            self.send_json(200, {'status': 'ok'})
            return
        self.send_json(404, {'error': {'message': f'no route {path}'}})

    def do_DELETE(self) -> None:  # noqa: N802
        if self.path.rstrip('/') == '/_requests':
            with self.state.lock:
                self.state.requests.clear()
            self.send_json(200, {'cleared': True})
            return
        self.send_json(404, {'error': {'message': 'no route'}})

    def do_POST(self) -> None:  # noqa: N802
        path = self.path.split('?')[0].rstrip('/')
        body = self.read_json()
        if path == '/_faults':
            with self.state.lock:
                self.state.fault_status = int(body.get('status', 503))
                self.state.fault_count = int(body.get('count', 0))
                self.state.chat_delay_seconds = float(body.get('delay_seconds', 0))
            self.send_json(200, {'armed': self.state.fault_count, 'delay_seconds': self.state.chat_delay_seconds})
            return
        self.state.record('POST', path, body)
        if self.answer_rate_limited():
            return
        fault = self.state.take_fault()
        if fault:
            self.send_json(fault, {'error': {'message': 'injected outage', 'type': 'server_error'}})
            return
        if path in ('/v1/embeddings', '/embeddings'):
            self.answer_embeddings(body)
        elif path in ('/v1/chat/completions', '/chat/completions'):
            self.answer_chat(body)
        else:
            self.send_json(404, {'error': {'message': f'no route {path}'}})

    def answer_rate_limited(self) -> bool:
        with self.state.lock:
            limited = time.time() < self.state.rate_limited_until
            retry_after = self.state.retry_after_seconds
        if not limited:
            return False
        data = json.dumps({'error': {'message': 'Rate limit reached', 'type': 'requests', 'code': 'rate_limit_exceeded'}})
        self.send_response(429)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Retry-After', f'{retry_after:g}')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data.encode())
        return True

    def answer_embeddings(self, body: dict[str, Any]) -> None:
        if self.state.embedding_delay_seconds:
            time.sleep(self.state.embedding_delay_seconds)
        inputs = body.get('input', '')
        texts = [inputs] if isinstance(inputs, str) else [str(i) for i in inputs]
        dim = int(body.get('dimensions') or self.state.dim)
        self.send_json(200, {
            'object': 'list',
            'model': body.get('model', 'double-embedding'),
            'data': [
                {'object': 'embedding', 'index': i, 'embedding': embed_text(text, dim)}
                for i, text in enumerate(texts)
            ],
            'usage': {'prompt_tokens': 0, 'total_tokens': 0},
        })

    def answer_chat(self, body: dict[str, Any]) -> None:
        schema = ((body.get('response_format') or {}).get('json_schema') or {}).get('name')
        call = {'prompt': prompt_text(body.get('messages') or []), 'schema': schema, 'concurrent_with': []}
        with self.state.lock:
            call['concurrent_with'] = list(self.state.chat_in_flight.values())
            for other in self.state.chat_calls[-50:]:
                if other.get('open'):
                    other['concurrent_with'].append(call['prompt'])
            self.state.chat_in_flight[id(call)] = call['prompt']
            self.state.most_chat_in_flight = max(self.state.most_chat_in_flight, len(self.state.chat_in_flight))
            call['open'] = True
            self.state.chat_calls.append(call)
            del self.state.chat_calls[:-MAX_RECORDED_REQUESTS]
        try:
            self._answer_chat(body)
        finally:
            with self.state.lock:
                self.state.chat_in_flight.pop(id(call), None)
                call['open'] = False

    def _answer_chat(self, body: dict[str, Any]) -> None:
        if self.state.chat_delay_seconds:
            time.sleep(self.state.chat_delay_seconds)
        messages = body.get('messages') or []
        prompt = prompt_text(messages)
        if POISON_MARKER in current_message(prompt) or POISON_MARKER in last_user_text(messages):
            self.send_json(400, {'error': {'message': 'poisoned input refused', 'type': 'invalid_request_error'}})
            return
        response_format = body.get('response_format') or {}
        if response_format.get('type') == 'json_schema':
            spec = response_format.get('json_schema') or {}
            content = json.dumps(structured_answer(spec.get('name', ''), spec.get('schema') or {}, prompt))
        elif response_format.get('type') == 'json_object':
            content = json.dumps({})
        else:
            content = 'Double reply: ' + ' '.join(last_user_text(messages).split())[:200]
        model = body.get('model', 'double-chat')
        command = bash_command_to_run(body)
        if body.get('stream') and command is not None:
            self.stream_tool_call(model, 'bash', {'command': command, 'description': 'Runs the requested command'})
            return
        if body.get('stream'):
            self.stream_chat(model, content)
            return
        self.send_json(200, {
            'id': 'chatcmpl-double', 'object': 'chat.completion', 'created': int(time.time()), 'model': model,
            'choices': [{'index': 0, 'message': {'role': 'assistant', 'content': content}, 'finish_reason': 'stop',
                         'logprobs': None}],
            'usage': {'prompt_tokens': len(prompt) // 4, 'completion_tokens': len(content) // 4,
                      'total_tokens': (len(prompt) + len(content)) // 4},
        })

    def stream_tool_call(self, model: str, tool: str, arguments: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header('Content-Type', 'text/event-stream')
        self.send_header('Cache-Control', 'no-cache')
        self.send_header('Connection', 'close')
        self.end_headers()
        base = {'id': 'chatcmpl-double', 'object': 'chat.completion.chunk', 'created': int(time.time()), 'model': model}
        call = {'index': 0, 'id': f'call_double_{int(time.time() * 1000)}', 'type': 'function',
                'function': {'name': tool, 'arguments': json.dumps(arguments)}}
        chunks = [
            {**base, 'choices': [{'index': 0, 'delta': {'role': 'assistant', 'tool_calls': [call]}, 'finish_reason': None}]},
            {**base, 'choices': [{'index': 0, 'delta': {}, 'finish_reason': 'tool_calls'}],
             'usage': {'prompt_tokens': 1, 'completion_tokens': 1, 'total_tokens': 2}},
        ]
        for chunk in chunks:
            self.wfile.write(f'data: {json.dumps(chunk)}\n\n'.encode())
        self.wfile.write(b'data: [DONE]\n\n')
        self.wfile.flush()
        self.close_connection = True

    def stream_chat(self, model: str, content: str) -> None:
        self.send_response(200)
        self.send_header('Content-Type', 'text/event-stream')
        self.send_header('Cache-Control', 'no-cache')
        self.send_header('Connection', 'close')
        self.end_headers()
        base = {'id': 'chatcmpl-double', 'object': 'chat.completion.chunk', 'created': int(time.time()), 'model': model}
        pieces = [content[i:i + 16] for i in range(0, len(content), 16)] or ['']
        chunks = [{**base, 'choices': [{'index': 0, 'delta': {'role': 'assistant', 'content': ''}, 'finish_reason': None}]}]
        chunks += [{**base, 'choices': [{'index': 0, 'delta': {'content': p}, 'finish_reason': None}]} for p in pieces]
        chunks.append({**base, 'choices': [{'index': 0, 'delta': {}, 'finish_reason': 'stop'}],
                       'usage': {'prompt_tokens': 1, 'completion_tokens': len(pieces), 'total_tokens': 1 + len(pieces)}})
        for chunk in chunks:
            self.wfile.write(f'data: {json.dumps(chunk)}\n\n'.encode())
        self.wfile.write(b'data: [DONE]\n\n')
        self.wfile.flush()
        self.close_connection = True


class OpenAICompatibleServer:
    """Start/stop the double in-process (a pytest fixture uses this)."""

    def __init__(self, host: str = '127.0.0.1', port: int = 0, dim: int = DEFAULT_DIM) -> None:
        self.state = ServerState(dim=dim)
        handler = type('BoundHandler', (Handler,), {'state': self.state})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name='openai-double', daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f'http://127.0.0.1:{self.port}/v1'

    def start(self) -> OpenAICompatibleServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def requests(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return list(self.state.requests)

    def inject_faults(self, status: int = 503, count: int = 0, delay_seconds: float = 0.0) -> None:
        with self.state.lock:
            self.state.fault_status, self.state.fault_count = status, count
            self.state.chat_delay_seconds = delay_seconds

    def most_chat_calls_at_once(self) -> int:
        """The most chat completions answered at the same moment since the requests were last cleared."""
        with self.state.lock:
            return self.state.most_chat_in_flight

    def delay_embeddings(self, seconds: float) -> None:
        """Answer embedding calls this many seconds late (a provider that hangs)."""
        with self.state.lock:
            self.state.embedding_delay_seconds = seconds

    def rate_limit(self, seconds: float, retry_after: float) -> None:
        """Answer every model call 429 with `Retry-After: retry_after` for the next `seconds`."""
        with self.state.lock:
            self.state.rate_limited_until = time.time() + seconds
            self.state.retry_after_seconds = retry_after

    def clear_requests(self) -> None:
        with self.state.lock:
            self.state.requests.clear()
            self.state.chat_calls.clear()
            self.state.most_chat_in_flight = len(self.state.chat_in_flight)

    def chat_calls(self) -> list[dict[str, Any]]:
        """Each chat completion answered: its prompt, the schema it asked for and the prompts answered while it was."""
        with self.state.lock:
            return [{'prompt': call['prompt'], 'schema': call['schema'], 'concurrent_with': list(call['concurrent_with'])}
                    for call in self.state.chat_calls]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8080)
    parser.add_argument('--dim', type=int, default=DEFAULT_DIM, help='embedding dimensions')
    args = parser.parse_args()
    server = OpenAICompatibleServer(args.host, args.port, args.dim)
    print(f'openai-compatible double listening on http://{args.host}:{server.port}/v1', flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


if __name__ == '__main__':
    main()
