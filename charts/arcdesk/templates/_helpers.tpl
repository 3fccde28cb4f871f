{{/*
Names and labels: the only place this chart makes them.
*/}}

{{/* Prefix of every object name: the release name, plus "-arcdesk" unless it has it. */}}
{{- define "arcdesk.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Cluster-scoped names carry the release namespace too: two releases never collide. */}}
{{- define "arcdesk.clusterName" -}}
{{- printf "%s-%s-%s" .root.Release.Namespace (include "arcdesk.fullname" .root) .suffix -}}
{{- end -}}

{{- define "arcdesk.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Selector labels of a component. name=arcdesk and component=gateway are a contract: the
operator's per-course desktop NetworkPolicy admits exactly the pods carrying both
(arcdesk.settings.GATEWAY_SELECTOR), so the name label is not overridable.
*/}}
{{- define "arcdesk.selectorLabels" -}}
app.kubernetes.io/name: arcdesk
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels on every object of the chart; call with (dict "root" $ "component" "...") */}}
{{- define "arcdesk.labels" -}}
{{ include "arcdesk.selectorLabels" . }}
app.kubernetes.io/part-of: arcdesk
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ include "arcdesk.chart" .root }}
{{- end -}}

{{- define "arcdesk.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{- define "arcdesk.desktopTag" -}}
{{- .Values.desktops.image.tag | default .Chart.AppVersion -}}
{{- end -}}

{{- define "arcdesk.priorityClassName" -}}
{{- .Values.desktops.priorityClass.name | default (printf "%s-desktop" (include "arcdesk.fullname" .)) -}}
{{- end -}}

{{/*
Namespaces served, as a JSON list (fromJsonArray to use it): the listed ones, or the
release namespace. Empty when cluster-wide.
*/}}
{{- define "arcdesk.namespaces" -}}
{{- if .Values.clusterWide -}}
{{- if .Values.namespaces -}}
{{- fail "namespaces must be empty when clusterWide is true (a cluster-wide release serves every namespace)" -}}
{{- end -}}
[]
{{- else -}}
{{- .Values.namespaces | default (list .Release.Namespace) | toJson -}}
{{- end -}}
{{- end -}}

{{/* `--namespace NS`... or `--all-namespaces`, as YAML list items for container args. */}}
{{- define "arcdesk.namespaceArgs" -}}
{{- if .Values.clusterWide }}
- --all-namespaces
{{- else }}
{{- range (include "arcdesk.namespaces" . | fromJsonArray) }}
- --namespace
- {{ . | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Restricted Pod Security, shared by the operator and gateway pods. */}}
{{- define "arcdesk.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "arcdesk.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/* imagePullSecrets, nodeSelector and tolerations of a pod; call with (dict "root" $ "pod" .Values.X) */}}
{{- define "arcdesk.podPlacement" -}}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . | quote }}
{{- end }}
{{- end }}
{{- with .pod.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .pod.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
