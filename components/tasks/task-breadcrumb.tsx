import Link from "next/link";

/** The link back to a task's page, above a task's sub-pages' titles. */
export function TaskBreadcrumb({ slug, title }: { slug: string; title: string }) {
  return (
    <p className="text-sm">
      <Link href={`/tasks/${slug}`} className="text-indigo-700 underline">
        {title}
      </Link>
    </p>
  );
}
