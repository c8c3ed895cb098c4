/**
 * KEDA's externalscaler.proto (proto/ at the package root), loaded at run time with proto-loader:
 * the service definition the server implements, and the client KEDA itself would use.
 */
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

// Two levels above src/keda when run from source, three above dist/src/keda when built.
const PROTO_PATH = fileURLToPath(new URL(`${import.meta.url.endsWith('.ts') ? '../../' : '../../../'}proto/externalscaler.proto`, import.meta.url));

export interface ScaledObjectRef {
  name: string;
  namespace: string;
  scalerMetadata: Record<string, string>;
}

export interface IsActiveResponse {
  result: boolean;
}

export interface MetricSpec {
  metricName: string;
  targetSize: number;
  targetSizeFloat: number;
}

export interface GetMetricSpecResponse {
  metricSpecs: MetricSpec[];
}

export interface GetMetricsRequest {
  /** null when the caller left it out (proto3 message fields have no default). */
  scaledObjectRef: ScaledObjectRef | null;
  metricName: string;
}

export interface MetricValue {
  metricName: string;
  metricValue: number;
  metricValueFloat: number;
}

export interface GetMetricsResponse {
  metricValues: MetricValue[];
}

/** The generated ExternalScaler client class; its `service` is the definition servers add. */
export function loadExternalScaler(): ServiceClientConstructor {
  // longs: Number — replica counts are far below 2^53, and KEDA reads int64 and double alike.
  const definition = loadSync(PROTO_PATH, { keepCase: true, longs: Number, defaults: true });
  const pkg = loadPackageDefinition(definition)['externalscaler'] as GrpcObject;
  return pkg['ExternalScaler'] as ServiceClientConstructor;
}
