// The cors package ships no types of its own: the part of its options waiter uses.
declare module "cors" {
  import type { RequestHandler } from "express";

  interface CorsOptions {
    /** true: the request's Origin is allowed, whatever it is; a string or list: only those. */
    origin?: boolean | string | string[];
    methods?: string[];
    allowedHeaders?: string[];
    exposedHeaders?: string[];
  }

  export default function cors(options?: CorsOptions): RequestHandler;
}
