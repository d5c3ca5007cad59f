import { redirect } from "next/navigation";

/** /admin/bouncers has no page of its own: the bouncer table is the admin home. */
export default function AdminBouncersIndex() {
  redirect("/admin");
}
