import type { Role } from "./desired.js";

/**
 * Roles of well-known providers, for events that do not say which role their
 * provider plays. Events may always name it explicitly (`provider_role`).
 */
const KNOWN: Record<string, Role> = {
  sanity: "cms",
  contentful: "cms",
  strapi: "cms",
  storyblok: "cms",
  prismic: "cms",
  datocms: "cms",
  hygraph: "cms",
  payload: "cms",
  directus: "cms",
  kontent: "cms",
  builderio: "cms",
  shopify: "ecommerce",
  bigcommerce: "ecommerce",
  commercetools: "ecommerce",
  saleor: "ecommerce",
  medusa: "ecommerce",
  swell: "ecommerce",
  magento: "ecommerce",
  codebuild: "ssg",
  netlify: "ssg",
  vercel: "ssg",
  gatsby: "ssg",
  nextjs: "ssg",
  astro: "ssg",
  hugo: "ssg",
  eleventy: "ssg",
  nuxt: "ssg",
};

export function roleOfProvider(name: string, declared: Role | null): Role | null {
  return declared ?? KNOWN[name.toLowerCase()] ?? null;
}
