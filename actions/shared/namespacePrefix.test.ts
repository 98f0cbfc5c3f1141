import { ConfigReader } from '@backstage/config';
import { readNamingOptions, reservedNamespaceClash } from './config';

const read = (namespacePrefix: string) => () =>
  readNamingOptions(new ConfigReader({ tensorflow: { namespacePrefix } }));

describe('tensorflow.namespacePrefix', () => {
  it('keeps the default and ordinary prefixes', () => {
    expect(readNamingOptions(new ConfigReader({})).namespacePrefix).toBe('ml-');
    expect(read('models-')().namespacePrefix).toBe('models-');
    expect(read('team-a-ml-')().namespacePrefix).toBe('team-a-ml-');
  });

  it.each([
    ['', /tensorflow\.namespacePrefix is empty/],
    [
      'kube-',
      /tensorflow\.namespacePrefix "kube-" overlaps the reserved namespace prefix "kube-"/,
    ],
    ['kube', /reserved namespace prefix "kube-"/],
    ['openshift-', /reserved namespace prefix "openshift"/],
    ['istio-', /reserved namespace prefix "istio-"/],
    ['defa', /project named "ult" land in the namespace "default"/],
    ['d', /namespace "default"/],
  ])('refuses %j at start-up naming the key', (prefix, message) => {
    expect(read(prefix)).toThrow(message);
  });

  it('refuses a prefix that reaches a configured platform namespace', () => {
    expect(reservedNamespaceClash('mon', ['monitoring'])).toBe(
      'lets a project named "itoring" land in the namespace "monitoring"',
    );
    expect(
      reservedNamespaceClash('ml-', ['monitoring', 'istio-ingress']),
    ).toBeUndefined();
  });
});
