// Checks Kubernetes manifests the way the API server does before it accepts
// them: against the OpenAPI schema of their kind (kubernetes-models' ajv
// validators), and for unknown fields. The schema check alone would let a
// misplaced field through (the schemas allow additional properties), and the
// API server either rejects it (kubectl's default --validate=strict) or
// silently drops it; an example with `shareProcessNamespace` under a
// container instead of the Pod spec would apply and never work. Unknown
// fields are found by type-checking each document as an object literal of
// the kind's interface: TypeScript reports every property the interface does
// not declare, at any depth.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigMap, Pod, Secret } from 'kubernetes-models/v1';
import ts = require('typescript');
import { parseAllDocuments } from 'yaml';

export interface Manifest {
  readonly file: string;
  /** 0-based position of the document in its file. */
  readonly index: number;
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly body: Readonly<Record<string, unknown>>;
}

interface KindModel {
  /** The module and interface of the kind's type, for the unknown-field check. */
  readonly module: string;
  readonly type: string;
  readonly validate: (body: Record<string, unknown>) => void;
}

// The kinds the examples use; a manifest of any other kind is reported, not skipped.
const KINDS: Readonly<Record<string, KindModel>> = {
  'v1/Pod': { module: 'kubernetes-models/v1/Pod', type: 'IPod', validate: (body) => new Pod(body).validate() },
  'v1/ConfigMap': { module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap', validate: (body) => new ConfigMap(body).validate() },
  'v1/Secret': { module: 'kubernetes-models/v1/Secret', type: 'ISecret', validate: (body) => new Secret(body).validate() },
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every document of a multi-document YAML file; YAML syntax errors throw with the file named. */
export function loadManifests(file: string): Manifest[] {
  const documents = parseAllDocuments(readFileSync(file, 'utf8'));
  if (!Array.isArray(documents)) throw new Error(`${file}: no YAML documents`);
  return documents.map((document, index) => {
    if (document.errors.length > 0) {
      throw new Error(`${file} document ${index}: ${document.errors.map((error) => error.message).join('; ')}`);
    }
    const body: unknown = document.toJS();
    if (!isRecord(body)) throw new Error(`${file} document ${index}: not a mapping`);
    const metadata = isRecord(body['metadata']) ? body['metadata'] : {};
    return {
      file,
      index,
      apiVersion: String(body['apiVersion']),
      kind: String(body['kind']),
      name: String(metadata['name']),
      body,
    };
  });
}

function describe(manifest: Manifest): string {
  return `${manifest.file} document ${manifest.index} (${manifest.kind} ${manifest.name})`;
}

function modelOf(manifest: Manifest): KindModel {
  const model = KINDS[`${manifest.apiVersion}/${manifest.kind}`];
  if (model === undefined) {
    throw new Error(`${describe(manifest)}: no schema wired up for ${manifest.apiVersion}/${manifest.kind}; accepted: ${Object.keys(KINDS).join(', ')}`);
  }
  return model;
}

/** Schema violations of one manifest, as the validator words them; empty when valid. */
export function schemaErrors(manifest: Manifest): string[] {
  try {
    modelOf(manifest).validate({ ...manifest.body });
    return [];
  } catch (error) {
    return [`${describe(manifest)}: ${error instanceof Error ? error.message : String(error)}`];
  }
}

/**
 * Fields no schema of their place declares, for all manifests in one
 * compilation. `packageRoot` is where node_modules/kubernetes-models lives.
 */
export function unknownFieldErrors(manifests: readonly Manifest[], packageRoot: string): string[] {
  const sources = new Map<string, { manifest: Manifest; text: string }>();
  manifests.forEach((manifest, position) => {
    const model = modelOf(manifest);
    const fileName = join(packageRoot, `__manifest_${position}__.ts`);
    const text = `import type { ${model.type} } from '${model.module}';\n` +
      `export const manifest: ${model.type} = ${JSON.stringify(manifest.body, null, 2)};\n`;
    sources.set(fileName, { manifest, text });
  });

  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    types: [],
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (fileName) => sources.get(fileName)?.text ?? readFile(fileName);
  host.fileExists = (fileName) => sources.has(fileName) || fileExists(fileName);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const source = sources.get(fileName);
    if (source !== undefined) return ts.createSourceFile(fileName, source.text, languageVersion, true);
    return getSourceFile(fileName, languageVersion, onError, shouldCreate);
  };

  const program = ts.createProgram([...sources.keys()], options, host);
  const errors: string[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const source = diagnostic.file === undefined ? undefined : sources.get(diagnostic.file.fileName);
    if (source === undefined || diagnostic.file === undefined || diagnostic.start === undefined) {
      // Not about a manifest: the check itself is broken (e.g. the package moved its types).
      errors.push(`unknown-field check could not run: ${message}`);
      continue;
    }
    errors.push(`${describe(source.manifest)}: ${jsonPathAt(diagnostic.file, diagnostic.start)}: ${message}`);
  }
  return errors;
}

/** The path of property names leading to a position in the generated literal, e.g. spec.containers[1].securityContext. */
function jsonPathAt(file: ts.SourceFile, position: number): string {
  const path: string[] = [];
  const visit = (node: ts.Node): void => {
    if (position < node.getStart(file) || position >= node.getEnd()) return;
    if (ts.isPropertyAssignment(node) && ts.isStringLiteral(node.name)) path.push(node.name.text);
    if (ts.isArrayLiteralExpression(node)) {
      const element = node.elements.findIndex((child) => position >= child.getStart(file) && position < child.getEnd());
      if (element >= 0) path.push(`[${element}]`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return path.join('.').replace(/\.\[/g, '[') || '(document)';
}
