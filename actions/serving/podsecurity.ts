/**
 * Pod Security Admission for project namespaces: every namespace enforces, audits and warns at
 * `restricted` (https://kubernetes.io/docs/concepts/security/pod-security-admission/), and every
 * pod spec we generate meets that profile
 * (https://kubernetes.io/docs/concepts/security/pod-security-standards/).
 */
export const POD_SECURITY_LEVEL = 'restricted';
export const POD_SECURITY_MODES = ['enforce', 'audit', 'warn'] as const;
/** `latest` or `v1.<minor>`; anything else PSA treats as `latest` and reports as an error. */
export const POD_SECURITY_VERSION = /^(latest|v1\.(0|[1-9][0-9]*))$/;

export function podSecurityLabels(version: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const mode of POD_SECURITY_MODES) {
    labels[`pod-security.kubernetes.io/${mode}`] = POD_SECURITY_LEVEL;
    labels[`pod-security.kubernetes.io/${mode}-version`] = version;
  }
  return labels;
}

/**
 * The stock tensorflow/serving image has no USER (it runs as root), and `runAsNonRoot` alone makes
 * the kubelet refuse a UID 0 image user: run as a fixed non-root UID/GID.
 */
export const SERVING_UID = 1000;

export const restrictedPodSecurityContext = () => ({
  runAsNonRoot: true,
  runAsUser: SERVING_UID,
  runAsGroup: SERVING_UID,
  fsGroup: SERVING_UID,
  seccompProfile: { type: 'RuntimeDefault' as const },
});

export const restrictedContainerSecurityContext = () => ({
  allowPrivilegeEscalation: false,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' as const },
});
