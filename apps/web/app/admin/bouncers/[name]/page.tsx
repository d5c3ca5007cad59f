import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { bouncerNameSchema } from "~/server/domain/names";
import { BouncerDetail } from "../../_components/bouncer-detail";

type Props = { params: Promise<{ name: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { name } = await params;
  return { title: name };
}

export default async function AdminBouncerPage({ params }: Props) {
  const { name } = await params;
  // Not a possible bouncer name (the admin.bouncer procedure would refuse it): a plain 404.
  if (!bouncerNameSchema.safeParse(name).success) notFound();
  return <BouncerDetail name={name} />;
}
