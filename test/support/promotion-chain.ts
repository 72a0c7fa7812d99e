/** A blackwell.yaml of one client with a staging -> prod promotion chain, for the promotion specs. */
export function promotionChainYaml(o: { promotion?: string; extra?: string } = {}): string {
  return `apiVersion: blackwell.io/v1
kind: Composition
metadata: {client_id: acme}
spec:
  stacks:
    - {stack_id: web-staging, environment: staging, providers: {cms: sanity}}
    - stack_id: web-prod
      environment: prod
      providers: {cms: sanity}
      promotion: {from: web-staging, match: [providers]${o.promotion ?? ""}}
${o.extra ?? ""}`;
}
