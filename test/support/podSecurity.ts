/**
 * The Pod Security Standards' `restricted` profile (which includes `baseline`) as a checker for pod specs,
 * encoded from https://kubernetes.io/docs/concepts/security/pod-security-standards/ and the check
 * implementations in kubernetes/pod-security-admission (`policy/check_*.go`, visitor over initContainers,
 * containers and ephemeralContainers). Check ids are the ones pod-security-admission reports.
 * Evaluated as of the latest version (checks relaxed for `hostUsers: false` in 1.35 are applied as relaxed).
 */
type Obj = Record<string, any>;

export interface PodSecurityViolation {
  check: string;
  path: string;
  message: string;
}

const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);
/** check_sysctls.go: the "safe" set. */
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
]);
/** restrictedVolumes: the only volume sources allowed. */
const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap',
  'downwardAPI',
  'emptyDir',
  'projected',
  'secret',
  'csi',
  'persistentVolumeClaim',
  'ephemeral',
  'image',
]);
const SELINUX_TYPES = new Set([
  '',
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
]);

function containersOf(spec: Obj): Array<{ path: string; c: Obj }> {
  const out: Array<{ path: string; c: Obj }> = [];
  for (const field of ['initContainers', 'containers', 'ephemeralContainers']) {
    (spec[field] ?? []).forEach((c: Obj, i: number) =>
      out.push({ path: `spec.${field}[${i}]`, c }),
    );
  }
  return out;
}

export function checkRestricted(spec: Obj): PodSecurityViolation[] {
  const v: PodSecurityViolation[] = [];
  const push = (check: string, path: string, message: string) =>
    v.push({ check, path, message });
  const psc: Obj = spec.securityContext ?? {};
  const containers = containersOf(spec);
  const userNamespaced = spec.hostUsers === false;

  // --- baseline ---
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC'])
    if (spec[f] === true)
      push('hostNamespaces', `spec.${f}`, 'must be unset or false');
  for (const { path, c } of containers) {
    if (c.securityContext?.privileged === true)
      push(
        'privileged',
        `${path}.securityContext.privileged`,
        'must be unset or false',
      );
    for (const add of c.securityContext?.capabilities?.add ?? []) {
      if (!BASELINE_CAPABILITIES.has(add))
        push(
          'capabilities_baseline',
          `${path}.securityContext.capabilities.add`,
          `${add} is not in the baseline set`,
        );
    }
    (c.ports ?? []).forEach((p: Obj, i: number) => {
      if (p.hostPort !== undefined && p.hostPort !== 0)
        push('hostPorts', `${path}.ports[${i}].hostPort`, 'must be unset or 0');
    });
    const seLinux = c.securityContext?.seLinuxOptions;
    if (seLinux) {
      if (!SELINUX_TYPES.has(seLinux.type ?? ''))
        push(
          'seLinuxOptions',
          `${path}.securityContext.seLinuxOptions.type`,
          `${seLinux.type} is not allowed`,
        );
      if (seLinux.user || seLinux.role)
        push(
          'seLinuxOptions',
          `${path}.securityContext.seLinuxOptions`,
          'user and role must be unset',
        );
    }
    const procMount = c.securityContext?.procMount;
    if (procMount !== undefined && procMount !== 'Default')
      push(
        'procMount',
        `${path}.securityContext.procMount`,
        'must be unset or Default',
      );
    const appArmor = c.securityContext?.appArmorProfile?.type;
    if (
      appArmor !== undefined &&
      appArmor !== 'RuntimeDefault' &&
      appArmor !== 'Localhost'
    )
      push(
        'appArmorProfile',
        `${path}.securityContext.appArmorProfile.type`,
        `${appArmor} is not allowed`,
      );
    if (c.securityContext?.windowsOptions?.hostProcess === true)
      push(
        'windowsHostProcess',
        `${path}.securityContext.windowsOptions.hostProcess`,
        'must not be true',
      );
    if (c.securityContext?.seccompProfile?.type === 'Unconfined')
      push(
        'seccompProfile_baseline',
        `${path}.securityContext.seccompProfile.type`,
        'must not be Unconfined',
      );
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      for (const h of ['httpGet', 'tcpSocket']) {
        if (c[probe]?.[h]?.host)
          push(
            'hostProbesAndHostLifecycle',
            `${path}.${probe}.${h}.host`,
            'must be empty',
          );
      }
    }
    for (const hook of ['postStart', 'preStop']) {
      for (const h of ['httpGet', 'tcpSocket']) {
        if (c.lifecycle?.[hook]?.[h]?.host)
          push(
            'hostProbesAndHostLifecycle',
            `${path}.lifecycle.${hook}.${h}.host`,
            'must be empty',
          );
      }
    }
  }
  (spec.volumes ?? []).forEach((vol: Obj, i: number) => {
    if (vol.hostPath)
      push(
        'hostPathVolumes',
        `spec.volumes[${i}].hostPath`,
        'hostPath volumes are not allowed',
      );
  });
  if (
    psc.seLinuxOptions &&
    (!SELINUX_TYPES.has(psc.seLinuxOptions.type ?? '') ||
      psc.seLinuxOptions.user ||
      psc.seLinuxOptions.role)
  ) {
    push(
      'seLinuxOptions',
      'spec.securityContext.seLinuxOptions',
      'type must be a container type; user and role unset',
    );
  }
  for (const s of psc.sysctls ?? [])
    if (!SAFE_SYSCTLS.has(s.name))
      push(
        'sysctls',
        'spec.securityContext.sysctls',
        `${s.name} is not a safe sysctl`,
      );
  if (psc.seccompProfile?.type === 'Unconfined')
    push(
      'seccompProfile_baseline',
      'spec.securityContext.seccompProfile.type',
      'must not be Unconfined',
    );
  if (psc.windowsOptions?.hostProcess === true)
    push(
      'windowsHostProcess',
      'spec.securityContext.windowsOptions.hostProcess',
      'must not be true',
    );

  // --- restricted ---
  (spec.volumes ?? []).forEach((vol: Obj, i: number) => {
    const types = Object.keys(vol).filter(k => k !== 'name');
    for (const t of types)
      if (!RESTRICTED_VOLUME_TYPES.has(t))
        push(
          'restrictedVolumes',
          `spec.volumes[${i}]`,
          `volume type ${t} is not allowed`,
        );
  });
  const podNonRoot = psc.runAsNonRoot === true;
  if (psc.runAsNonRoot === false && !userNamespaced)
    push(
      'runAsNonRoot',
      'spec.securityContext.runAsNonRoot',
      'must not be false',
    );
  if (psc.runAsUser === 0 && !userNamespaced)
    push('runAsUser', 'spec.securityContext.runAsUser', 'must not be 0');
  const podSeccomp = psc.seccompProfile?.type;
  if (
    podSeccomp !== undefined &&
    podSeccomp !== 'RuntimeDefault' &&
    podSeccomp !== 'Localhost'
  ) {
    push(
      'seccompProfile_restricted',
      'spec.securityContext.seccompProfile.type',
      `${podSeccomp} must be RuntimeDefault or Localhost`,
    );
  }
  for (const { path, c } of containers) {
    const sc: Obj = c.securityContext ?? {};
    const windows = spec.os?.name === 'windows';
    if (sc.allowPrivilegeEscalation !== false && !windows)
      push(
        'allowPrivilegeEscalation',
        `${path}.securityContext.allowPrivilegeEscalation`,
        'must be set to false',
      );
    if (!userNamespaced) {
      if (sc.runAsNonRoot === false)
        push(
          'runAsNonRoot',
          `${path}.securityContext.runAsNonRoot`,
          'must not be false',
        );
      else if (sc.runAsNonRoot !== true && !podNonRoot)
        push(
          'runAsNonRoot',
          `${path}.securityContext.runAsNonRoot`,
          'must be true here or at pod level',
        );
      if (sc.runAsUser === 0)
        push('runAsUser', `${path}.securityContext.runAsUser`, 'must not be 0');
    }
    const seccomp = sc.seccompProfile?.type;
    if (seccomp === undefined) {
      if (podSeccomp === undefined)
        push(
          'seccompProfile_restricted',
          `${path}.securityContext.seccompProfile.type`,
          'must be RuntimeDefault or Localhost here or at pod level',
        );
    } else if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') {
      push(
        'seccompProfile_restricted',
        `${path}.securityContext.seccompProfile.type`,
        `${seccomp} must be RuntimeDefault or Localhost`,
      );
    }
    if (!windows) {
      const drop: string[] = sc.capabilities?.drop ?? [];
      if (!drop.includes('ALL'))
        push(
          'capabilities_restricted',
          `${path}.securityContext.capabilities.drop`,
          'must include ALL',
        );
      for (const add of sc.capabilities?.add ?? []) {
        if (add !== 'NET_BIND_SERVICE')
          push(
            'capabilities_restricted',
            `${path}.securityContext.capabilities.add`,
            `${add}: only NET_BIND_SERVICE may be added`,
          );
      }
    }
  }
  // runAsNonRoot with no container at all setting it and no pod-level value
  if (!userNamespaced && !podNonRoot && containers.length === 0)
    push('runAsNonRoot', 'spec.securityContext.runAsNonRoot', 'must be true');
  return v;
}
