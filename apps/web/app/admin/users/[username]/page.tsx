import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { adminMetadata, NOT_FOUND_TITLE } from "../../_components/metadata";
import { UserDetail } from "../_components/user-detail";

type Props = { params: Promise<{ username: string }> };

/** The adminUsers.user procedure's rule: 1–255 characters. Others answer a plain 404. */
const possibleUsername = (name: string) => name.trim().length > 0 && name.length <= 255;

/** The segment as typed (a malformed escape is kept as is rather than thrown). */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const username = decoded((await params).username);
  return adminMetadata(possibleUsername(username) ? username : { absolute: NOT_FOUND_TITLE });
}

export default async function AdminUserPage({ params }: Props) {
  const username = decoded((await params).username);
  if (!possibleUsername(username)) notFound();
  return <UserDetail username={username} />;
}
