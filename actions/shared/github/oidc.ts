/**
 * Claim keys of the repository's customised GitHub Actions OIDC subject. With
 * these keys the subject reads `repository_owner_id:<n>:repository_id:<n>:environment:<env>`.
 */
export const CI_SUBJECT_CLAIM_KEYS = [
  'repository_owner_id',
  'repository_id',
  'context',
] as const;
