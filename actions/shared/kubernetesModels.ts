/* eslint-disable @typescript-eslint/no-require-imports */
import { lazy } from './lazy';

/**
 * The kubernetes-models classes the manifest builders validate with, loaded on first use:
 * they pull in hundreds of files and JSON schemas that only the serving step needs.
 */
export const kubernetesModels = lazy(() => ({
  ConfigMap: (
    require('kubernetes-models/v1/ConfigMap') as typeof import('kubernetes-models/v1/ConfigMap')
  ).ConfigMap,
  Container: (
    require('kubernetes-models/v1/Container') as typeof import('kubernetes-models/v1/Container')
  ).Container,
  LimitRange: (
    require('kubernetes-models/v1/LimitRange') as typeof import('kubernetes-models/v1/LimitRange')
  ).LimitRange,
  Namespace: (
    require('kubernetes-models/v1/Namespace') as typeof import('kubernetes-models/v1/Namespace')
  ).Namespace,
  PodSecurityContext: (
    require('kubernetes-models/v1/PodSecurityContext') as typeof import('kubernetes-models/v1/PodSecurityContext')
  ).PodSecurityContext,
  ResourceQuota: (
    require('kubernetes-models/v1/ResourceQuota') as typeof import('kubernetes-models/v1/ResourceQuota')
  ).ResourceQuota,
  Service: (
    require('kubernetes-models/v1/Service') as typeof import('kubernetes-models/v1/Service')
  ).Service,
  Toleration: (
    require('kubernetes-models/v1/Toleration') as typeof import('kubernetes-models/v1/Toleration')
  ).Toleration,
  Deployment: (
    require('kubernetes-models/apps/v1/Deployment') as typeof import('kubernetes-models/apps/v1/Deployment')
  ).Deployment,
  NetworkPolicy: (
    require('kubernetes-models/networking.k8s.io/v1/NetworkPolicy') as typeof import('kubernetes-models/networking.k8s.io/v1/NetworkPolicy')
  ).NetworkPolicy,
  PodDisruptionBudget: (
    require('kubernetes-models/policy/v1/PodDisruptionBudget') as typeof import('kubernetes-models/policy/v1/PodDisruptionBudget')
  ).PodDisruptionBudget,
}));

/** The Istio classes of the gateway's manifests and mesh config check, loaded on first use. */
export const istioModels = lazy(() => ({
  AuthorizationPolicy: (
    require('@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy') as typeof import('@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy')
  ).AuthorizationPolicy,
  RequestAuthentication: (
    require('@kubernetes-models/istio/security.istio.io/v1/RequestAuthentication') as typeof import('@kubernetes-models/istio/security.istio.io/v1/RequestAuthentication')
  ).RequestAuthentication,
  Telemetry: (
    require('@kubernetes-models/istio/telemetry.istio.io/v1alpha1/Telemetry') as typeof import('@kubernetes-models/istio/telemetry.istio.io/v1alpha1/Telemetry')
  ).Telemetry,
  IstioOperator: (
    require('@kubernetes-models/istio/install.istio.io/v1alpha1/IstioOperator') as typeof import('@kubernetes-models/istio/install.istio.io/v1alpha1/IstioOperator')
  ).IstioOperator,
}));
