import { z } from "zod";

/**
 * The rules of the account domain, one definition each: the sign-up form, the organisers' CLI and
 * the team pages all parse with these, so a rule and its message change in one place.
 */
export const emailSchema = z.email("an email address such as ada@example.org").transform((email) => email.toLowerCase());
export const personNameSchema = z.string().trim().min(1, "your name, as your team-mates know you").max(100, "at most 100 characters");
export const passwordSchema = z.string().min(8, "at least 8 characters").max(200, "at most 200 characters");
export const teamNameSchema = z.string().trim().min(2, "at least 2 characters").max(60, "at most 60 characters");
