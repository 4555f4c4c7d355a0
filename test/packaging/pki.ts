// A throwaway CA and serving certificate for the chart's "provided" mode.
import { generateCa, issueServingCert, serviceSans } from '../../src/server/certs.js';

export function providedCerts(service = 'portcullis', namespace = 'portcullis') {
  const ca = generateCa('test-ca', 30);
  const serving = issueServingCert(ca, serviceSans(service, namespace), 10);
  return { ca: ca.certPem, cert: serving.certPem, key: serving.keyPem };
}
