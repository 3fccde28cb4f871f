{{/*
RBAC rules. Least privilege, and why each rule exists (see README "RBAC"). The operator
writes with POST, PATCH (server-side apply, merge patch) and DELETE, never PUT: no update.
*/}}

{{/* Operator, in every namespace it serves. */}}
{{- define "arcdesk.operatorRules" -}}
- apiGroups: [arcdesk.dev]  # read Courses; patch clears a handled reissue request
  resources: [courses]
  verbs: [get, list, watch, patch]
- apiGroups: [arcdesk.dev]  # one Seat per trainee, created and removed with the course
  resources: [seats]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [arcdesk.dev]  # status.seats/phase/conditions
  resources: [courses/status, seats/status]
  verbs: [patch]
- apiGroups: [""]  # each seat's desktop Pod, Service, Secret and home PVC
  resources: [pods, services, secrets, persistentvolumeclaims]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [networking.k8s.io]  # one NetworkPolicy per course
  resources: [networkpolicies]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [""]  # kopf posts Kubernetes events about handlers and transitions
  resources: [events]
  verbs: [create]
{{- end -}}

{{/* Operator, cluster-scoped reads it needs in either mode. */}}
{{- define "arcdesk.operatorClusterRules" -}}
- apiGroups: [arcdesk.dev]  # DesktopProfiles are cluster-scoped and admin-owned
  resources: [desktopprofiles]
  verbs: [get, list, watch]
- apiGroups: [storage.k8s.io]  # binding mode: a pod waits for an Immediate-bound home
  resources: [storageclasses]
  verbs: [list, watch]
- apiGroups: [apiextensions.k8s.io]  # kopf notices CRDs added or removed at runtime
  resources: [customresourcedefinitions]
  verbs: [list, watch]
{{- if not .Values.clusterWide }}
- apiGroups: [""]  # kopf (namespaced) matches served namespaces; refused, it stalls ~20 s
  resources: [namespaces]
  verbs: [list, watch]
{{- end }}
{{- end -}}

{{/* Gateway, in every namespace it serves: reads only, plus the start request. */}}
{{- define "arcdesk.gatewayRules" -}}
- apiGroups: [arcdesk.dev]  # course titles for the landing and instructor pages
  resources: [courses]
  verbs: [list, watch]
- apiGroups: [arcdesk.dev]  # seat index; patch only sets the start-requested annotation
  resources: [seats]
  verbs: [list, watch, patch]
- apiGroups: [""]  # tokens and VNC passwords (the gateway lists them label-selected)
  resources: [secrets]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]  # addresses of each seat's websockify and session agent
  resources: [endpointslices]
  verbs: [list, watch]
{{- end -}}

{{/* A (Cluster)RoleBinding's subject: the component's ServiceAccount. */}}
{{- define "arcdesk.subject" -}}
subjects:
  - kind: ServiceAccount
    name: {{ include "arcdesk.fullname" .root }}-{{ .component }}
    namespace: {{ .root.Release.Namespace }}
{{- end -}}
