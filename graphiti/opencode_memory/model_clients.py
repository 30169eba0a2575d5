"""The LLM, embedder and reranker clients graphiti uses: OpenAI, or any OpenAI-compatible endpoint."""

from __future__ import annotations

from dataclasses import dataclass

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

# The OpenAI SDK refuses to start without a key; local endpoints usually ignore it.
PLACEHOLDER_API_KEY = 'not-set'


@dataclass(frozen=True)
class ModelClients:
    llm: LLMClient
    embedder: EmbedderClient
    cross_encoder: CrossEncoderClient
    llm_client_kind: str


def chosen_llm_client_kind(settings: Settings) -> str:
    if settings.llm_client_kind != 'auto':
        return settings.llm_client_kind
    base_url = settings.openai_base_url or ''
    return 'openai' if not base_url or 'api.openai.com' in base_url else 'openai_generic'


def build_model_clients(settings: Settings) -> ModelClients:
    api_key = settings.openai_api_key or PLACEHOLDER_API_KEY
    llm_config = LLMConfig(
        api_key=api_key,
        model=settings.llm_model,
        small_model=settings.small_llm_model,
        base_url=settings.openai_base_url,
    )
    kind = chosen_llm_client_kind(settings)
    if kind == 'openai':
        llm: LLMClient = OpenAIClient(config=llm_config)
    elif kind == 'openai_generic':
        llm = OpenAIGenericClient(config=llm_config)
    else:
        raise ValueError(f'GRAPHITI_LLM_CLIENT must be auto, openai or openai_generic, not {kind!r}')
    embedder = OpenAIEmbedder(
        OpenAIEmbedderConfig(
            embedding_model=settings.embedding_model,
            embedding_dim=settings.embedding_dim,
            api_key=api_key,
            base_url=settings.openai_base_url,
        )
    )
    cross_encoder = OpenAIRerankerClient(
        config=LLMConfig(api_key=api_key, model=settings.small_llm_model, base_url=settings.openai_base_url)
    )
    return ModelClients(llm=llm, embedder=embedder, cross_encoder=cross_encoder, llm_client_kind=kind)
