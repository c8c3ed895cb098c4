/**
 * What tap measures coverage of, for every test file: the service, the plugins and the bench harness.
 * Not the bench's compiled copy of them (bench/.build), which its server child loads.
 */
export default function coverageMap(): string[] {
  return ['src/**/*.ts', 'extenders/**/*.ts', 'bench/*.ts'];
}
