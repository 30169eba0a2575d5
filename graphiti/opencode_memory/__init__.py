"""OpenCode long-term memory: a Graphiti knowledge graph on FalkorDB fed through a durable Valkey queue."""
