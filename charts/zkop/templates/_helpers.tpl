{{/* The chart's name (nameOverride wins). */}}
{{- define "zkop.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object names: fullnameOverride, else the release name when it contains the chart name
     (`helm install zkop charts/zkop` -> "zkop"), else "<release>-<chart>". */}}
{{- define "zkop.fullname" -}}
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

{{- define "zkop.selectorLabels" -}}
app.kubernetes.io/name: {{ include "zkop.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "zkop.labels" -}}
{{ include "zkop.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: zkop
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{- define "zkop.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "zkop.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository@digest when a digest is set, else repository:tag (default: appVersion). */}}
{{- define "zkop.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The operator's Lease (zkop-operator run's fixed name), in the release namespace. */}}
{{- define "zkop.leaseName" -}}zkop-operator{{- end }}

{{/*
What zkop-operator calls in every namespace it watches — derived from operator/src and
shared/kube, and checked by tests/chart (the e2e records every request the operator's
ServiceAccount makes and fails on a rule it never used):
  - ZookeeperClusters: informer (list, watch); finalizer add/remove (patch); status read
    before an operation starts and status writes (status: get, patch).
  - Pods, PVCs: informers; created for members; deleted on scale-down and finalization.
  - ConfigMaps, Services, PodDisruptionBudgets: informers; created; merge-patched when a
    field the operator owns drifts (membership changes patch the ConfigMaps).
  - Secrets: informer; the admin Secret is created once, never updated.
  - Events: created; repeats patch the count (client-go's EventRecorder does the same).
*/}}
{{- define "zkop.rules" -}}
- apiGroups: ["zkop.io"]
  resources: ["zookeeperclusters"]
  verbs: ["list", "watch", "patch"]
- apiGroups: ["zkop.io"]
  resources: ["zookeeperclusters/status"]
  verbs: ["get", "patch"]
- apiGroups: [""]
  resources: ["pods", "persistentvolumeclaims"]
  verbs: ["list", "watch", "create", "delete"]
- apiGroups: [""]
  resources: ["configmaps", "services"]
  verbs: ["list", "watch", "create", "patch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["list", "watch", "create"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["list", "watch", "create", "patch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}
