{{/* vim: set filetype=mustache: */}}

{{/* Chart name. */}}
{{- define "registrar.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Resource name prefix: "<release>-registrar" (or the release name if it contains the chart name). */}}
{{- define "registrar.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of one component's resources: (dict "ctx" $ "component" "worker"). */}}
{{- define "registrar.componentName" -}}
{{- printf "%s-%s" (include "registrar.fullname" .ctx | trunc 50 | trimSuffix "-") .component -}}
{{- end -}}

{{/* Labels on every resource. */}}
{{- define "registrar.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "registrar.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: registrar
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels of one component: (dict "ctx" $ "component" "api"). */}}
{{- define "registrar.componentLabels" -}}
{{ include "registrar.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Selector labels of one component (immutable on Deployments: never add to these). */}}
{{- define "registrar.selectorLabels" -}}
app.kubernetes.io/name: {{ include "registrar.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* metadata.annotations content from commonAnnotations (empty string when none). */}}
{{- define "registrar.annotations" -}}
{{- with .Values.commonAnnotations }}
{{- toYaml . }}
{{- end }}
{{- end -}}

{{/* The image reference. */}}
{{- define "registrar.image" -}}
{{- $repo := .Values.image.repository -}}
{{- if .Values.image.registry -}}
{{- $repo = printf "%s/%s" .Values.image.registry .Values.image.repository -}}
{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repo .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Secret name and key of a connection value: (dict "ctx" $ "value" .Values.postgresql "key" "postgres-url"). */}}
{{- define "registrar.secretName" -}}
{{- if .value.existingSecret -}}
{{- tpl .value.existingSecret .ctx -}}
{{- else -}}
{{- include "registrar.fullname" .ctx -}}
{{- end -}}
{{- end -}}

{{- define "registrar.secretKey" -}}
{{- if .value.existingSecret -}}
{{- .value.existingSecretKey -}}
{{- else -}}
{{- .key -}}
{{- end -}}
{{- end -}}

{{/* True when the chart must create its own Secret (some value is inline). */}}
{{- define "registrar.createSecret" -}}
{{- $v := .Values -}}
{{- if or (not $v.postgresql.existingSecret) (not $v.rabbitmq.existingSecret) (not $v.redis.existingSecret) (and (not $v.encryption.existingSecret) $v.encryption.keys) (and (not $v.api.bootstrapApiKey.existingSecret) $v.api.bootstrapApiKey.value) -}}
true
{{- end -}}
{{- end -}}

{{/* True when pods get a key ring. */}}
{{- define "registrar.hasEncryptionKeys" -}}
{{- if or .Values.encryption.existingSecret .Values.encryption.keys -}}
true
{{- end -}}
{{- end -}}

{{/* Checksums that roll the pods when the chart's ConfigMap or Secret change. */}}
{{- define "registrar.configChecksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print .Template.BasePath "/secrets.yaml") . | sha256sum }}
{{- end -}}

{{/* Environment of every registrar container: server URLs from Secrets, the rest from the ConfigMap (envFrom). */}}
{{- define "registrar.env" -}}
- name: REGISTRAR_POSTGRES_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "registrar.secretName" (dict "ctx" . "value" .Values.postgresql) }}
      key: {{ include "registrar.secretKey" (dict "value" .Values.postgresql "key" "postgres-url") }}
- name: REGISTRAR_AMQP_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "registrar.secretName" (dict "ctx" . "value" .Values.rabbitmq) }}
      key: {{ include "registrar.secretKey" (dict "value" .Values.rabbitmq "key" "amqp-url") }}
- name: REGISTRAR_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "registrar.secretName" (dict "ctx" . "value" .Values.redis) }}
      key: {{ include "registrar.secretKey" (dict "value" .Values.redis "key" "redis-url") }}
{{- if include "registrar.hasEncryptionKeys" . }}
- name: REGISTRAR_ENCRYPTION_KEYS_FILE
  value: /etc/registrar/encryption/keys
{{- end }}
{{- end -}}

{{/* envFrom of every registrar container. */}}
{{- define "registrar.envFrom" -}}
- configMapRef:
    name: {{ include "registrar.fullname" . }}
{{- end -}}

{{/* Volumes of every registrar pod: a writable /tmp and the key ring. */}}
{{- define "registrar.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpVolume.sizeLimit }}
{{- if include "registrar.hasEncryptionKeys" . }}
- name: encryption-keys
  secret:
    secretName: {{ include "registrar.secretName" (dict "ctx" . "value" .Values.encryption) }}
    defaultMode: 0440
    items:
      - key: {{ include "registrar.secretKey" (dict "value" .Values.encryption "key" "encryption-keys") }}
        path: keys
{{- end }}
{{- end -}}

{{- define "registrar.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if include "registrar.hasEncryptionKeys" . }}
- name: encryption-keys
  mountPath: /etc/registrar/encryption
  readOnly: true
{{- end }}
{{- end -}}

{{/* The initContainer that waits until the migration Job has brought the schema up to date. */}}
{{- define "registrar.waitForSchema" -}}
{{- if .Values.waitForSchema.enabled }}
- name: wait-for-schema
  image: {{ include "registrar.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command:
    - /bin/sh
    - -c
    - until registrar migrate --check; do echo "waiting for the schema migration"; sleep 2; done
  env:
    {{- include "registrar.env" . | nindent 4 }}
  envFrom:
    {{- include "registrar.envFrom" . | nindent 4 }}
  securityContext:
    {{- toYaml .Values.containerSecurityContext | nindent 4 }}
  resources:
    {{- toYaml .Values.waitForSchema.resources | nindent 4 }}
  volumeMounts:
    {{- include "registrar.volumeMounts" . | nindent 4 }}
{{- end }}
{{- end -}}

{{/* An HTTP probe: (dict "probe" .Values.api.livenessProbe "path" "/healthz" "port" "http"). */}}
{{- define "registrar.httpProbe" -}}
httpGet:
  path: {{ .path }}
  port: {{ .port }}
initialDelaySeconds: {{ .probe.initialDelaySeconds }}
periodSeconds: {{ .probe.periodSeconds }}
timeoutSeconds: {{ .probe.timeoutSeconds }}
failureThreshold: {{ .probe.failureThreshold }}
{{- end -}}

{{/* A PodDisruptionBudget spec body: (dict "pdb" .Values.api.pdb). */}}
{{- define "registrar.pdbBudget" -}}
{{- if not (eq (toString .pdb.minAvailable) "") }}
minAvailable: {{ .pdb.minAvailable }}
{{- else }}
maxUnavailable: {{ .pdb.maxUnavailable }}
{{- end }}
{{- end -}}

{{/* Pod placement fields shared by the three Deployments: (dict "ctx" $ "c" .Values.worker). */}}
{{- define "registrar.podPlacement" -}}
{{- with .ctx.Values.image.pullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- with .c.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .c.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .c.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .c.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .c.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The ServiceAccount pods run as. */}}
{{- define "registrar.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "registrar.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}
