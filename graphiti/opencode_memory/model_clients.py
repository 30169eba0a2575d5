"""The LLM, embedder and reranker clients graphiti uses: OpenAI, or any OpenAI-compatible endpoint. Ingestion's calls
share one ModelGate (bounded, paused by a 429); searches embed their query through a client of their own, so a
search never queues behind ingestion's calls."""

from __future__ import annotations

from dataclasses import dataclass

import httpx2
from openai import AsyncOpenAI, DefaultAsyncHttpxClient

from .bootstrap import prepare_graphiti_import

prepare_graphiti_import()

from graphiti_core.cross_encoder.client import CrossEncoderClient  # noqa: E402
from graphiti_core.cross_encoder.openai_reranker_client import OpenAIRerankerClient  # noqa: E402
from graphiti_core.embedder.client import EmbedderClient  # noqa: E402
from graphiti_core.embedder.openai import OpenAIEmbedder, OpenAIEmbedderConfig  # noqa: E402
from graphiti_core.llm_client.client import LLMClient  # noqa: E402
from graphiti_core.llm_client.config import LLMConfig  # noqa: E402
from graphiti_core.llm_client.openai_client import OpenAIClient  # noqa: E402
from graphiti_core.llm_client.openai_generic_client import OpenAIGenericClient  # noqa: E402

from .config import Settings  # noqa: E402
from .model_gate import GatedTransport, ModelGate  # noqa: E402

# The OpenAI SDK refuses to start without a key; local endpoints usually ignore it.
PLACEHOLDER_API_KEY = 'not-set'
# The longest a 429's Retry-After pauses model calls (a provider may ask for an hour).
MAX_PAUSE_SECONDS = 300.0


@dataclass(frozen=True)
class ModelClients:
    llm: LLMClient
    embedder: EmbedderClient
    cross_encoder: CrossEncoderClient
    llm_client_kind: str
    # a query's embedding: its own connections, no retries (a search that cannot embed falls back to keywords)
    search_embedder: EmbedderClient


def chosen_llm_client_kind(settings: Settings) -> str:
    if settings.llm_client_kind != 'auto':
        return settings.llm_client_kind
    base_url = settings.openai_base_url or ''
    return 'openai' if not base_url or 'api.openai.com' in base_url else 'openai_generic'


def build_model_clients(settings: Settings) -> ModelClients:
    api_key = settings.openai_api_key or PLACEHOLDER_API_KEY
    gate = ModelGate(settings.model_concurrency, MAX_PAUSE_SECONDS)
    # the SDK's own client (its limits, timeouts, redirects), over the gate
    gated = AsyncOpenAI(api_key=api_key, base_url=settings.openai_base_url,
                        http_client=DefaultAsyncHttpxClient(transport=GatedTransport(gate)))
    llm_config = LLMConfig(
        api_key=api_key,
        model=settings.llm_model,
        small_model=settings.small_llm_model,
        base_url=settings.openai_base_url,
    )
    kind = chosen_llm_client_kind(settings)
    if kind == 'openai':
        llm: LLMClient = OpenAIClient(config=llm_config, client=gated)
    elif kind == 'openai_generic':
        llm = OpenAIGenericClient(config=llm_config, client=gated)
    else:
        raise ValueError(f'GRAPHITI_LLM_CLIENT must be auto, openai or openai_generic, not {kind!r}')
    embedder_config = OpenAIEmbedderConfig(
        embedding_model=settings.embedding_model,
        embedding_dim=settings.embedding_dim,
        api_key=api_key,
        base_url=settings.openai_base_url,
    )
    search_client = AsyncOpenAI(api_key=api_key, base_url=settings.openai_base_url, max_retries=0,
                                timeout=httpx2.Timeout(10, connect=3))
    cross_encoder = OpenAIRerankerClient(
        config=LLMConfig(api_key=api_key, model=settings.small_llm_model, base_url=settings.openai_base_url),
        client=gated,
    )
    return ModelClients(llm=llm, embedder=OpenAIEmbedder(embedder_config, client=gated), cross_encoder=cross_encoder,
                        llm_client_kind=kind, search_embedder=OpenAIEmbedder(embedder_config, client=search_client))
