{{/* Chart name, truncated for DNS labels. */}}
{{- define "portcullis.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name when it already contains the chart name. */}}
{{- define "portcullis.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "portcullis.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "portcullis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "portcullis.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The helm test pod: not selected by the Service, the PDB or the spread constraints. */}}
{{- define "portcullis.testLabels" -}}
app.kubernetes.io/name: {{ include "portcullis.name" . }}-test
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: test
{{- end }}

{{- define "portcullis.labels" -}}
helm.sh/chart: {{ include "portcullis.chart" . }}
{{ include "portcullis.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: portcullis
{{- end }}

{{- define "portcullis.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "portcullis.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image: repository:tag, or repository:tag@digest when a digest is pinned. Never "latest". */}}
{{- define "portcullis.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag | toString }}
{{- if eq $tag "latest" }}
{{- fail "image.tag: expected a version tag, got \"latest\" (portcullis refuses it in the workloads it admits)" }}
{{- end }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* Name of the Secret holding the serving pair. */}}
{{- define "portcullis.tlsSecretName" -}}
{{- $mode := .Values.certificates.mode }}
{{- if and (eq $mode "self") .Values.certificates.self.secretName }}
{{- .Values.certificates.self.secretName }}
{{- else if and (eq $mode "provided") .Values.certificates.provided.secretName }}
{{- .Values.certificates.provided.secretName }}
{{- else }}
{{- printf "%s-tls" (include "portcullis.fullname" .) }}
{{- end }}
{{- end }}

{{/* Whether the background audit runs (audit.intervalMinutes > 0). */}}
{{- define "portcullis.auditOn" -}}
{{- if gt (float64 .Values.audit.intervalMinutes) 0.0 }}true{{- end }}
{{- end }}

{{/* The background audit's Lease in the release namespace: one per release. */}}
{{- define "portcullis.auditLeaseName" -}}
{{- printf "%s-audit" (include "portcullis.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Whether the pods talk to the Kubernetes API. */}}
{{- define "portcullis.needsApi" -}}
{{- if or (eq .Values.certificates.mode "self") (dig "registry" "usePullSecrets" false .Values.config) (eq (include "portcullis.auditOn" .) "true") .Values.ownerEvents.enabled .Values.exceptions.enabled .Values.failSafe.enabled }}true{{- end }}
{{- end }}

{{/* The securityContext of every portcullis container (values securityContext): by default it passes portcullis's own policies. */}}
{{- define "portcullis.containerSecurityContext" -}}
{{- toYaml .Values.securityContext }}
{{- end }}

{{- define "portcullis.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext }}
{{- end }}

{{/* namespaceSelector expressions both webhooks share: never kube-system, the release namespace, exempt namespaces. */}}
{{- define "portcullis.namespaceExclusions" -}}
- key: kubernetes.io/metadata.name
  operator: NotIn
  values: {{ concat (list "kube-system" .Release.Namespace) .Values.webhook.excludeNamespaces | uniq | toJson }}
{{- with .Values.webhook.namespaceSelector.matchExpressions }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Rules: pods, ephemeral containers and every pod controller. */}}
{{- define "portcullis.webhookRules" -}}
- operations: ["CREATE", "UPDATE"]
  apiGroups: [""]
  apiVersions: ["v1"]
  resources: ["pods", "pods/ephemeralcontainers", "replicationcontrollers", "podtemplates"]
  scope: Namespaced
- operations: ["CREATE", "UPDATE"]
  apiGroups: ["apps"]
  apiVersions: ["v1"]
  resources: ["deployments", "replicasets", "statefulsets", "daemonsets"]
  scope: Namespaced
- operations: ["CREATE", "UPDATE"]
  apiGroups: ["batch"]
  apiVersions: ["v1"]
  resources: ["jobs", "cronjobs"]
  scope: Namespaced
{{- end }}

{{/* The namespaces PolicyExceptions are read from: exceptions.namespaces, else the release namespace. */}}
{{- define "portcullis.exceptionNamespaces" -}}
{{- if .Values.exceptions.namespaces }}{{ join "," .Values.exceptions.namespaces }}{{ else }}{{ .Release.Namespace }}{{ end }}
{{- end }}

{{/* The PortcullisConfig: .Values.config with each customPolicyConfigMaps mount added to customPolicies.directories. */}}
{{- define "portcullis.config" -}}
{{- $config := deepCopy .Values.config }}
{{- if .Values.customPolicyConfigMaps }}
{{- $custom := deepCopy (default (dict) $config.customPolicies) }}
{{- $dirs := default (list) $custom.directories }}
{{- range .Values.customPolicyConfigMaps }}
{{- $dirs = append $dirs (printf "/etc/portcullis/custom-policies/%s" .) }}
{{- end }}
{{- $_ := set $custom "directories" $dirs }}
{{- $_ := set $config "customPolicies" $custom }}
{{- end }}
{{- toYaml $config }}
{{- end }}
