{{- define "transship.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "transship.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "transship.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "transship.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "transship.selectorLabels" -}}
app.kubernetes.io/name: {{ include "transship.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "transship.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "transship.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "transship.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "transship.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "transship.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}
{{- end -}}

{{- define "transship.secretName" -}}
{{- default (include "transship.fullname" .) .Values.secret.existingSecret -}}
{{- end -}}

{{/* Which secret keys exist: from the values when the chart renders the Secret, else as declared. */}}
{{- define "transship.secretKeys" -}}
{{- $s := .Values.secret -}}
{{- if $s.existingSecret -}}
{{- dict "upstreams" $s.existingKeys.upstreams "htpasswd" $s.existingKeys.htpasswd "adminToken" $s.existingKeys.adminToken "authTokenSecret" $s.existingKeys.authTokenSecret | toJson -}}
{{- else if $s.create -}}
{{- dict "upstreams" (keys $s.upstreams | sortAlpha) "htpasswd" (ne $s.htpasswd "") "adminToken" (ne $s.adminToken "") "authTokenSecret" (ne $s.authTokenSecret "") | toJson -}}
{{- else -}}
{{- dict "upstreams" (list) "htpasswd" false "adminToken" false "authTokenSecret" false | toJson -}}
{{- end -}}
{{- end -}}

{{/* TRANSSHIP_* segment for an upstream alias: docker.io -> DOCKER_IO */}}
{{- define "transship.envSegment" -}}
{{- . | upper | replace "." "_" | replace "-" "_" -}}
{{- end -}}

{{/* transship.yaml: the user's config with what the chart manages laid over it */}}
{{- define "transship.config" -}}
{{- $keys := include "transship.secretKeys" . | fromJson -}}
{{- $managed := dict
      "listen" (ternary (printf "0.0.0.0:%v" .Values.service.port) "" (or (not .Values.tls.enabled) .Values.tls.plainHttp))
      "admin" (dict "listen" (printf "0.0.0.0:%v" .Values.service.adminPort))
      "storage" (dict "filesystem" (dict "root" "/var/lib/transship" "max-bytes" .Values.cache.maxBytes))
      "server" (dict "drain-timeout" (printf "%vs" .Values.shutdown.drainTimeoutSeconds)) -}}
{{- if .Values.tls.enabled -}}
{{- if .Values.tls.secretName -}}
{{- $_ := set $managed "tls" (dict "listen" (printf "0.0.0.0:%v" .Values.service.tlsPort) "cert-file" "/etc/transship/tls/tls.crt" "key-file" "/etc/transship/tls/tls.key") -}}
{{- else -}}
{{- $_ := set $managed "tls" (dict "listen" (printf "0.0.0.0:%v" .Values.service.tlsPort)) -}}
{{- end -}}
{{- end -}}
{{- if $keys.htpasswd -}}
{{- $_ := set $managed "auth" (dict "htpasswd" "/etc/transship/secret/htpasswd") -}}
{{- end -}}
{{- if $keys.adminToken -}}
{{- $_ := set $managed.admin "token-file" "/etc/transship/secret/admin-token" -}}
{{- end -}}
{{- mustMergeOverwrite (deepCopy (.Values.config | default dict)) $managed | toYaml -}}
{{- end -}}
