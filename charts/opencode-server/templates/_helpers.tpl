{{/* The name of every object: fullnameOverride, else the release name. */}}
{{- define "opencode-server.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object, with Datadog's unified service tags. */}}
{{- define "opencode-server.labels" -}}
app.kubernetes.io/name: {{ include "opencode-server.fullname" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
tags.datadoghq.com/env: {{ .Values.datadog.env | quote }}
tags.datadoghq.com/service: {{ .Values.datadog.service | quote }}
tags.datadoghq.com/version: {{ .Values.datadog.version | quote }}
{{- end -}}

{{- define "opencode-server.selectorLabels" -}}
app.kubernetes.io/name: {{ include "opencode-server.fullname" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* repository:tag, with @digest when one is given. */}}
{{- define "opencode-server.image" -}}
{{- if .digest -}}{{ printf "%s:%s@%s" .repository .tag .digest }}{{- else -}}{{ printf "%s:%s" .repository .tag }}{{- end -}}
{{- end -}}

{{/* The Secret the containers read: the given one, or the one the chart makes. */}}
{{- define "opencode-server.secretName" -}}
{{- default (include "opencode-server.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{/*
A container's Secret volume, holding only the keys it reads: `items` of the one Secret, or (Podman 4.3, which ignores
items) a Secret of its own named <secret>-<container>. Called with (dict "root" $ "container" NAME "keys" LIST).
*/}}
{{- define "opencode-server.secretVolume" -}}
- name: {{ .container }}-secrets
  secret:
{{- if .root.Values.secrets.perContainerSecrets }}
    secretName: {{ include "opencode-server.secretName" .root }}-{{ .container }}
{{- else }}
    secretName: {{ include "opencode-server.secretName" .root }}
    items:
{{- range .keys }}
      - {key: {{ . }}, path: {{ . }}}
{{- end }}
{{- end }}
    defaultMode: 0440
    # spelled out: Podman 4.3 crashes on a secret volume without it (podman#16636)
    optional: false
{{- end -}}

{{/*
Every container's securityContext: the restricted profile of the values with the container's own fields over it
(its uid, group, …). Called with (dict "root" $ "own" (dict …)).
*/}}
{{- define "opencode-server.securityContext" -}}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.containerSecurityContext) .own) -}}
{{- end -}}

{{/* The memory stack's addresses, in the pod (127.0.0.1) or external. */}}
{{- define "opencode-server.memoryEnv" -}}
- name: FALKORDB_HOST
  value: {{ ternary "127.0.0.1" .Values.falkordb.external.host .Values.falkordb.enabled | quote }}
- name: FALKORDB_PORT
  value: {{ ternary 6379 .Values.falkordb.external.port .Values.falkordb.enabled | quote }}
- name: FALKORDB_PASSWORD_FILE
  value: /run/secrets/falkordb-password
- name: VALKEY_HOST
  value: {{ ternary "127.0.0.1" .Values.valkey.external.host .Values.valkey.enabled | quote }}
- name: VALKEY_PORT
  value: {{ ternary 6380 .Values.valkey.external.port .Values.valkey.enabled | quote }}
- name: VALKEY_PASSWORD_FILE
  value: /run/secrets/valkey-password
{{- end -}}

{{/* Refusals that a schema cannot express, each naming its value. */}}
{{- define "opencode-server.validate" -}}
{{- if and (not .Values.falkordb.enabled) (not .Values.falkordb.external.host) -}}
{{- fail "falkordb.external.host: required when falkordb.enabled is false" -}}
{{- end -}}
{{- if and (not .Values.valkey.enabled) (not .Values.valkey.external.host) -}}
{{- fail "valkey.external.host: required when valkey.enabled is false" -}}
{{- end -}}
{{- if not .Values.secrets.existingSecret -}}
{{- if .Values.secrets.openaiApiKey -}}{{- fail "secrets.openaiApiKey: needs secrets.existingSecret (the chart's own Secret holds passwords only)" -}}{{- end -}}
{{- if .Values.backup.enabled -}}{{- fail "backup.enabled: needs secrets.existingSecret holding the B2 and backup-encryption keys" -}}{{- end -}}
{{- if .Values.datadog.agent.enabled -}}{{- fail "datadog.agent.enabled: needs secrets.existingSecret holding datadog-api-key" -}}{{- end -}}
{{- if .Values.secrets.perContainerSecrets -}}{{- fail "secrets.perContainerSecrets: needs secrets.existingSecret" -}}{{- end -}}
{{- end -}}
{{- if and .Values.ingress.enabled (not .Values.ingress.host) -}}
{{- fail "ingress.host: required when ingress.enabled is true" -}}
{{- end -}}
{{- if and .Values.ingress.enabled (not .Values.service.enabled) -}}
{{- fail "ingress.enabled: needs service.enabled" -}}
{{- end -}}
{{- end -}}
