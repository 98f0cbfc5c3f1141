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
     * Entity kinds accepted as the owner of a model project. Default: ['group'].
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
  };
}
