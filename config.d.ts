/**
 * Configuration of the TensorFlow scaffolder module. Everything lives under the
 * single `tensorflow:` key of app-config.
 */
export interface Config {
  tensorflow?: {
    /**
     * Prefix of every project's Kubernetes namespace: namespace = prefix + project name.
     * @visibility backend
     */
    namespacePrefix?: string;

    /**
     * Entity kinds accepted as the owner of a model project, by every tensorflow:* action (the one
     * owner rule). Default: ['group'].
     * @visibility backend
     */
    ownerKinds?: Array<'group' | 'user'>;

    /**
     * Where model repositories are published on embedded defaults (local git).
     * @visibility backend
     */
    repositories?: {
      /** Folder holding one bare-free git repository per model project. Default: `.data/repos`. */
      localRoot?: string;
    };
    // @sections: each area adds its own section below this line (smoke, serving, gitops, access, identity, github, gateway, catalog)

    /**
     * Mesh policies in front of every model endpoint (actions/gateway): JWT authentication,
     * per-project authorization from the access policy, access records. See docs/gateway.md.
     * @visibility backend
     */
    gateway?: {
      /** `iss` of the platform identity provider's tokens. Default `https://idp.dev.localhost` (dev only). */
      issuer?: string;
      /** JWKS URL of the identity provider; required when `issuer` is set. */
      jwksUri?: string;
      /** Per-project token audience; must contain `{name}` or `{namespace}` (plain replacement). Default `tensorflow-serving/{namespace}`. */
      audienceTemplate?: string;
      /** Top-level token claim with the caller's groups. Default `groups`. */
      groupsClaim?: string;
      /** How a Backstage group appears in that claim: `{ref}`, `{namespace}`, `{name}`. Default `{name}`. */
      groupClaimValue?: string;
      /** meshConfig extensionProviders name that writes access records. Default `ml-serving-access-log`. */
      accessLogProvider?: string;
      /** Link to a project's access records, with `{namespace}` / `{name}` (plain replacement). Default: none. */
      accessLogUrlTemplate?: string;
    };

    /**
     * Per-project model serving endpoints (tensorflow:serving:provision): the platform's
     * defaults and ceilings. Everything is optional; a bad value fails start-up naming the key.
     * @visibility backend
     */
    serving?: {
      /** Model server: a TF Serving Deployment + Service, or a KServe InferenceService (RawDeployment). Default tfserving. */
      runtime?: 'tfserving' | 'kserve';
      /** Image repository. Default `tensorflow/serving`. */
      image?: string;
      /** Image tag without `-gpu` (appended when GPUs are requested). Default `2.18.0`. */
      imageTag?: string;
      /** Registry (and path) prepended to `image`, e.g. `registry.example.com/mirror`. */
      registry?: string;
      /** Extended resource name of GPUs. Default `nvidia.com/gpu`. */
      gpuResourceName?: string;
      /** Node selector added to GPU workloads. Default none. */
      gpuNodeSelector?: { [label: string]: string };
      /** Tolerations added to GPU workloads. Default [{ key: <gpuResourceName>, operator: Exists, effect: NoSchedule }]. */
      gpuTolerations?: Array<{
        key?: string;
        operator?: 'Exists' | 'Equal';
        value?: string;
        effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
      }>;
      /** Base of model storage; wizard values must stay under it: pvc://<claim>[/path], gs://<bucket>[/path], s3://<bucket>[/path]. Default `pvc://models`. */
      modelStorageBaseUri?: string;
      /** The only peer allowed to reach model servers (selected by `kubernetes.io/metadata.name` + pod labels). */
      gateway?: {
        /** Default `istio-system`. */
        namespace?: string;
        /** Default { istio: ingressgateway }. */
        podLabels?: { [label: string]: string };
        /** Public base URL; the endpoint is <publicBaseUrl>/<project>/v1/models/<project>. Default: none (no gateway URL output). */
        publicBaseUrl?: string;
      };
      /** DNS pods model servers may query (the only egress). Default kube-system / { k8s-app: kube-dns }. */
      dns?: { namespace?: string; podLabels?: { [label: string]: string } };
      /** Optional Prometheus allowed to scrape the REST port. Default: none. */
      metricsScraper?: {
        namespace: string;
        podLabels?: { [label: string]: string };
      };
      /** Default `cluster.local`. */
      clusterDomain?: string;
      /** Environments the wizard offers. Default [development, staging, production]. */
      environments?: string[];
      /** Per-replica ceilings for wizard input. Defaults: 4 replicas, 1 GPU, 8 CPU, 32Gi. */
      limits?: {
        maxReplicas?: number;
        maxGpusPerReplica?: number;
        maxCpuPerReplica?: string;
        maxMemoryPerReplica?: string;
      };
      /** Per-project ResourceQuota (hard). Defaults: 4 GPUs, 16 CPU, 64Gi, 20 pods. The whole deployment must fit. */
      quota?: { gpus?: number; cpu?: string; memory?: string; pods?: number };
      /** LimitRange container defaults. Defaults: requests 250m / 512Mi, limits 1 / 2Gi. */
      containerDefaults?: {
        cpuRequest?: string;
        memoryRequest?: string;
        cpuLimit?: string;
        memoryLimit?: string;
      };
      /** Size presets offered by the wizard; each must fit the ceilings. */
      sizes?: {
        small?: {
          replicas?: number;
          gpus?: number;
          cpu?: string;
          memory?: string;
        };
        medium?: {
          replicas?: number;
          gpus?: number;
          cpu?: string;
          memory?: string;
        };
        large?: {
          replicas?: number;
          gpus?: number;
          cpu?: string;
          memory?: string;
        };
      };
      /** Batching defaults when a template turns batching on. */
      batching?: {
        maxBatchSize?: number;
        batchTimeoutMicros?: number;
        maxEnqueuedBatches?: number;
        numBatchThreads?: number;
      };
      /**
       * Flows allowed past the namespace's default-deny NetworkPolicy (docs/serving.md, "Network flows").
       * Defaults follow the cloud (from tensorflow.identity.provider) and the model storage scheme.
       */
      network?: {
        /** Default: gke for provider gke, eks for eks-irsa / eks-pod-identity, otherwise other. */
        cloud?: 'gke' | 'eks' | 'other';
        mesh?: {
          /** Istio sidecar injection on the project namespace. Default true. */
          enabled?: boolean;
          /** Default `istio-system`. */
          istiodNamespace?: string;
          /** Default { app: istiod }. */
          istiodPodLabels?: { [label: string]: string };
          /** Default 15012. */
          istiodPort?: number;
        };
        /** Node-local DNS resolvers (ipBlock on 53). Default GKE ['169.254.20.10/32'], else none. */
        nodeLocalDnsCidrs?: string[];
        /** Egress to gs:// / s3:// model storage. Default public IPv4 minus private/link-local ranges on 443; none for pvc://. */
        modelStorage?: {
          cidrs?: string[];
          except?: string[];
          ports?: number[];
        };
        /** Node-local workload identity endpoints. Default GKE 169.254.169.254/32:80 + 169.254.169.252/32:988; EKS Pod Identity 169.254.170.23/32:80; else none. */
        workloadIdentity?: Array<{ cidr: string; port: number }>;
        /** Egress to AWS STS (IRSA). Default for eks-irsa: public IPv4 minus private ranges on 443; else none. */
        sts?: { cidrs?: string[]; except?: string[]; ports?: number[] };
      };
      /** Pod Security Admission on project namespaces: the level is always `restricted` (enforce, audit, warn). */
      podSecurity?: {
        /** Version label value: `latest` or `v1.<minor>`. Default `latest`. */
        version?: string;
      };
    };

    /**
     * Where generated manifests are delivered (serving, identity, gateway share one branch per project).
     * @visibility backend
     */
    gitops?: {
      /** Default `local` (a git repository on disk; no network). */
      target?: 'local' | 'github';
      /** File layout; placeholders {namespace} {project} {area} {kind} {name}. Default `projects/{namespace}/{area}/{kind}-{name}.yaml`. */
      pathTemplate?: string;
      local?: {
        /** Repository folder, created if missing. Default `.data/gitops`. */
        path?: string;
        /** Branch project branches fork from. Default `main`. */
        baseBranch?: string;
      };
      github?: {
        /** `github.com?owner=<org>&repo=<repo>`; credentials come from integrations.github. Required for target github. */
        repoUrl?: string;
        /** Pull-request base. Default `main`. */
        baseBranch?: string;
        /** Labels on opened pull requests. Default [gitops, model-serving]. */
        labels?: string[];
        /** Overrides `pathTemplate` for the github target. */
        pathTemplate?: string;
      };
    };

    /**
     * Smoke inference (tensorflow:model:validate): defaults a template may override per step.
     * @visibility backend
     */
    smoke?: {
      /** Device policy: any (GPU if @tensorflow/tfjs-node-gpu is installed), gpu (fail without one), cpu. Default any. */
      device?: 'any' | 'gpu' | 'cpu';
      /** Timed inference runs. Default 20. */
      runs?: number;
      /** Upper bound on `runs` a template may ask for. Default 200. */
      maxRuns?: number;
      /** Untimed warm-up runs. Default 2. */
      warmupRuns?: number;
      /** p95 latency budget in ms applied when a step gives none. Default: no budget. */
      latencyBudgetMs?: number;
      /**
       * What a model under validation may use. The model runs in a child process that is killed on
       * a breach; sizes are checked from model.json before anything is read. See docs/smoke.md.
       */
      limits?: {
        /** Wall time of one validation run (start, load, warm-up, timed runs), ms. Default 120000. */
        wallMs?: number;
        /** Resident memory (RSS) of the runner process, MiB (wasm memory included). Default 1024. */
        memoryMb?: number;
        /** Size of model.json, bytes. Default 33554432 (32 MiB). */
        maxModelJsonBytes?: number;
        /** Weight bytes, declared in the manifest and present (they must agree). Default 268435456 (256 MiB). */
        maxWeightBytes?: number;
        /** Weight shard files. Default 128. */
        maxShards?: number;
        /** Bytes of all input tensors of one inference (signature shape × batch × dtype size). Default 67108864 (64 MiB). */
        maxInputBytes?: number;
        /** Size of the runner's result (the report as JSON), bytes. Default 1048576 (1 MiB). */
        maxOutputBytes?: number;
      };
    };

    /**
     * Access policy: named scopes (by permission, never by job title), what each grants on
     * every target, and which groups may receive them. Absent: embedded defaults
     * (predict, read-metadata, deploy, admin; owner gets admin; any group may be granted
     * predict and read-metadata). Validated at start-up; errors name the offending key.
     * @visibility backend
     */
    access?: {
      /** Scope name -> grants. Must define at least predict, read-metadata, deploy and admin. */
      scopes?: {
        [scope: string]: {
          description?: string;
          /** Role rules in the project namespace. No "*", no serviceaccounts/token, no RBAC objects or secrets, no escalate/bind/impersonate. */
          kubernetes?: {
            rules: Array<{
              apiGroups: string[];
              resources: string[];
              verbs: string[];
              /** Whole-value placeholders `<project>` and `<serviceAccount>` are replaced by the project's names. */
              resourceNames?: string[];
            }>;
          };
          /** Repository permission of the group's GitHub team. */
          github?: {
            permission:
              'none' | 'pull' | 'triage' | 'push' | 'maintain' | 'admin';
          };
          /** Data-plane routes relative to /v1/models/<name> (e.g. ":predict", "/metadata", "" for status); filled in by the gateway. */
          gateway?: { routes: Array<{ methods: string[]; paths: string[] }> };
        };
      };
      rules?: {
        /** Scopes the owning group always receives. Default [admin]. */
        ownerDefaultScopes?: string[];
        /** Scopes any group may be granted per project in the wizard. Default [predict, read-metadata]. */
        grantable?: string[];
        /** Per-group allow-lists: extra scopes this group may be granted. */
        groups?: Array<{ group: string; scopes: string[] }>;
        /** Groups holding the admin scope platform-wide: may provision for any owning group. */
        adminGroups?: string[];
      };
    };

    /**
     * Workload identity, projected tokens and CI trust (tensorflow:identity:provision).
     * @visibility backend
     */
    identity?: {
      /** Cloud workload identity. Default `none`. */
      provider?: 'none' | 'gke' | 'eks-irsa' | 'eks-pod-identity';
      gke?: {
        projectId: string;
        /** Numeric project number (needed for CI trust). */
        projectNumber?: string;
        /** Namespace of Config Connector resources. Default: the project namespace. */
        configConnectorNamespace?: string;
        /** Workload identity pool for GitHub Actions. Default `github-actions`. */
        ciWorkloadIdentityPool?: string;
      };
      aws?: {
        accountId: string;
        /** AWS region (e.g. eu-west-1); required for CI trust on AWS (the workflow's AWS_REGION variable). */
        region?: string;
        /** EKS OIDC provider without scheme (IRSA), e.g. oidc.eks.eu-west-1.amazonaws.com/id/ABC. */
        oidcProvider?: string;
        /** EKS cluster name (Pod Identity). */
        clusterName?: string;
        /** EKS cluster ARN (pins Pod Identity trust). */
        clusterArn?: string;
        /** IAM path of generated roles. Default `/tensorflow/`. */
        rolePath?: string;
        permissionsBoundaryArn?: string;
      };
      /** Projected service-account token of the serving workload. */
      token?: {
        /** Default `tensorflow-serving`. */
        audience?: string;
        /** 600..86400, default 3600. */
        expirationSeconds?: number;
      };
      /** Cloud trust for the model repository's GitHub Actions. */
      ci?: {
        /** Default: true when provider is not `none`. */
        enabled?: boolean;
        /** Trusted GitHub environments. Default [staging, production]. */
        environments?: string[];
        /** Token audience. Default: sts.amazonaws.com (AWS) / the provider's resource name (GCP). */
        audience?: string;
      };
      /** Prefix of group names in the cluster's OIDC groups claim. Default `oidc:`. */
      groupsClaimPrefix?: string;
    };

    /**
     * Catalog registration (tensorflow:catalog:register).
     * @visibility backend
     */
    catalog?: {
      /**
       * Accept a User (not only a Group) as owner of registered entities. Default false.
       * @deprecated Use `tensorflow.ownerKinds` (`[group, user]` for true), the one owner rule every action follows.
       * Honoured only when ownerKinds is unset; start-up warns when it is set and fails when the two disagree.
       */
      allowUserOwners?: boolean;
      /** Seconds to wait for registered entities to become readable (1-3600). Default 60. */
      waitTimeoutSeconds?: number;
      /** Lifecycle of Components and APIs when the template gives none. Default `experimental`. */
      defaultLifecycle?: string;
      /** Red Hat Developer Hub's model catalog. */
      rhdh?: {
        /**
         * Also register one `AiModelServerAPI` entity per endpoint (RHDH model catalog 1.0+), besides
         * the Resource/Component/API shape RHDH 1.8-1.10 reads. Default false: only a catalog with
         * RHDH's AiModelServerAPI kind layer can process that kind.
         */
        aiModelServerApi?: boolean;
      };
    };
  };
}
