import Link from "next/link";

const messages: Record<string, string> = {
  Username:
    "Your username cannot be used on IRC. Usernames must start with a letter and use only a–z, 0–9, _ and -. Please change it in your account settings and sign in again.",
  AccessDenied: "Sign-in was refused.",
  Callback: "We could not finish signing you in. Please try again.",
  OAuthCallback: "We could not finish signing you in. Please try again.",
  Configuration: "Sign-in is not available right now. Please try again later.",
};

export default async function AuthErrorPage({
  searchParams,
}: {
  searchParams: Promise<{ error?: string }>;
}) {
  const { error } = await searchParams;
  return (
    <main className="mx-auto max-w-xl px-6 py-24">
      <h1 className="text-2xl font-bold text-white">Sign-in problem</h1>
      <p className="mt-4 text-slate-300" role="alert">
        {messages[error ?? ""] ?? "Something went wrong while signing you in. Please try again."}
      </p>
      <Link href="/" className="mt-8 inline-block text-emerald-400 hover:text-emerald-300">
        Back to irc.now
      </Link>
    </main>
  );
}
