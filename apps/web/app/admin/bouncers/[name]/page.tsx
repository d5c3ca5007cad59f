import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { BouncerDetail } from "../../_components/bouncer-detail";
import { isAdminBouncerName as possibleName } from "../../_components/bouncer-name";
import { adminMetadata, NOT_FOUND_TITLE } from "../../_components/metadata";

type Props = { params: Promise<{ name: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { name } = await params;
  // The page answers 404 (admin/not-found.tsx); Next keeps this page's metadata for it.
  return adminMetadata(possibleName(name) ? name : { absolute: NOT_FOUND_TITLE });
}

export default async function AdminBouncerPage({ params }: Props) {
  const { name } = await params;
  // Not a possible bouncer name (the admin.bouncer procedure would refuse it): a plain 404.
  if (!possibleName(name)) notFound();
  return <BouncerDetail name={name} />;
}
