import Link from "next/link";

export default function NotFound() {
  return (
    <div className="mx-auto max-w-xl space-y-4 rounded-lg border border-slate-200 bg-white p-6">
      <h1 className="text-xl font-semibold">Not found</h1>
      <p className="text-slate-700">There is nothing at this address. The task or page may have been renamed.</p>
      <Link href="/tasks" className="text-indigo-700 underline">
        See the tasks
      </Link>
    </div>
  );
}
